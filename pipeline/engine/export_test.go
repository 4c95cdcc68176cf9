package engine

// Spliced reports whether e's chain takes the spliced path.
func (e *Engine) Spliced() bool { return e.edit != nil }

// Folded is how many steps at the end of e's chain the splice applies
// itself (fold.go).
func (e *Engine) Folded() int { return len(e.folded) }

// NoObserver hears nothing, for tests' observers to embed.
type NoObserver = noObserver
