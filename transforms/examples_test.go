package transforms

import "testing"

// Every example in every spec is executed: the docs cannot show an example
// that does not work.
func TestSpecExamples(t *testing.T) {
	for _, name := range Default.Names() {
		reg, _ := Default.Lookup(name)
		if len(reg.Spec.Examples) == 0 {
			t.Errorf("%s: spec has no examples", name)
		}
		for _, ex := range reg.Spec.Examples {
			t.Run(name+"/"+ex.Title, func(t *testing.T) {
				if err := Default.RunExample(name, ex); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}
