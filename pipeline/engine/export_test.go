package engine

// Spliced reports whether e's chain takes the spliced path.
func (e *Engine) Spliced() bool { return e.edit != nil }
