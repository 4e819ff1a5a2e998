package incident

// RelevanceGroup is a set of text fields and the weight a full-text term
// found in any of them adds to an incident's relevance.
type RelevanceGroup struct {
	Fields []string
	Weight int
}

// Relevance is what sortby=relevance orders by, the same on every engine:
// an incident's score is the sum, over the terms of q and over these groups,
// of the group's weight when the term (any of its spellings, as a phrase,
// a prefix term as a prefix) is found in one of the group's fields; higher
// scores first, then the shorter text (the characters of all the groups'
// fields together: the same words in less text say more), then by id. A term in the place name says the incident is
// about that place, in an actor's name that it is about that actor, in the
// notes only that they mention it, in the source least. It is an integer
// computed from the incident's own text alone (no corpus statistics such as
// bm25's, which two engines would count and round differently), so every
// engine ranks alike and a page is the same page on each.
var Relevance = []RelevanceGroup{
	{Fields: []string{"location"}, Weight: 8},
	{Fields: []string{"actor1", "actor2"}, Weight: 4},
	{Fields: []string{"notes"}, Weight: 2},
	{Fields: []string{"source"}, Weight: 1},
}
