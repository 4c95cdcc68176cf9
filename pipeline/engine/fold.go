package engine

import (
	"slices"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
)

// The spliced path's plan. Renames and removals of top-level fields at the
// end of a chain (transforms.FieldMoves: rename and drop of top-level
// names) need not run on the map the chain works on: when no step before
// them, no `when` and no route names those fields, Splice moves and
// leaves out the members themselves (codec.Edit.Move), so that neither
// field is decoded and the steps are not called: for the benchmark's
// chain (filter, set, rename, drop) a seventh of the engine's time per
// record. A moved value is copied as read, as the members no step names
// are: a number keeps its digits.

// splicePlan is what the spliced path runs: the edit, the chain's steps
// that run on the map (all of them, or all but the folded tail), and the
// folded tail. ok is false when the chain takes the full path.
type splicePlan struct {
	edit   *codec.Edit
	head   *transforms.Chain
	folded []*transforms.Step
}

// planSplice plans the spliced path of c for a route that reads dest.
// c's Observe and TimeOneIn must be set: the head shares them.
func planSplice(c *transforms.Chain, dest transforms.Fields) (splicePlan, bool) {
	if _, ok := c.TopLevelFields(); !ok {
		return splicePlan{}, false
	}
	n := foldable(c, dest)
	head := c
	if n > 0 {
		head = &transforms.Chain{Steps: c.Steps[:len(c.Steps)-n], Observe: c.Observe, TimeOneIn: c.TimeOneIn}
	}
	f, _ := head.TopLevelFields()
	f = f.Merge(dest)
	var moves [][2]string
	for _, s := range c.Steps[len(c.Steps)-n:] {
		renames, deletes, _ := s.Transform.(transforms.FieldMoves).FieldMoves()
		moves = append(moves, renames...)
		f.Deletes = append(f.Deletes, deletes...)
	}
	edit := codec.NewEdit(f.Reads, f.Writes, f.Deletes, f.Only)
	for _, m := range moves {
		edit.Move(m[0], m[1])
	}
	return splicePlan{edit: edit, head: head, folded: c.Steps[len(c.Steps)-n:]}, true
}

// foldable is how many steps at the end of c the spliced path may apply
// itself: each without `when`, a FieldMoves that accepts, together naming
// every field once, and none of those fields named by a step before them
// or by the route; none when a step before them keeps only some fields.
func foldable(c *transforms.Chain, dest transforms.Fields) int {
	most := 0
	for i := len(c.Steps) - 1; i >= 0; i-- {
		s := c.Steps[i]
		if s.When != nil {
			break
		}
		if fm, ok := s.Transform.(transforms.FieldMoves); !ok {
			break
		} else if _, _, ok := fm.FieldMoves(); !ok {
			break
		}
		most++
	}
	for n := most; n > 0; n-- {
		var names []string
		distinct := true
		for _, s := range c.Steps[len(c.Steps)-n:] {
			renames, deletes, _ := s.Transform.(transforms.FieldMoves).FieldMoves()
			for _, r := range renames {
				names = append(names, r[0], r[1])
			}
			names = append(names, deletes...)
		}
		for i, x := range names {
			if slices.Contains(names[:i], x) {
				distinct = false
			}
		}
		head := &transforms.Chain{Steps: c.Steps[:len(c.Steps)-n]}
		f, _ := head.TopLevelFields()
		if f.Only {
			return 0 // a keep before them would have removed what they move
		}
		f = f.Merge(dest)
		named := slices.ContainsFunc(names, func(x string) bool {
			return slices.Contains(f.Reads, x) || slices.Contains(f.Writes, x) || slices.Contains(f.Deletes, x)
		})
		if distinct && !named {
			return n
		}
	}
	return 0
}
