package cql2

// Check reports whether e can be evaluated over properties of the given
// types: every property it names exists and every literal fits the type it is
// compared with. The error is an *Error naming the position, as SQL's. A
// caller checks a filter when it parses it, so that a bad one is refused
// before any engine sees it.
func Check(e Expr, types map[string]Type) error {
	cols := make(map[string]Column, len(types))
	for name, t := range types {
		// The translation below only type-checks; its text is thrown away.
		cols[name] = Column{Type: t, SQL: "x", X: "x", Y: "y"}
	}
	_, _, err := SQL(e, cols)
	return err
}
