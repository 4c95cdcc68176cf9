package spec

import "strings"

// synonyms are words users bring from Kafka, kcat and other stream
// processors, mapped to Millrace's word for the same thing. They are too
// far from it for an edit-distance suggestion ("earliest" is not a typo of
// "oldest"), yet they are what people type first.
var synonyms = map[string][]string{
	"earliest":       {"oldest"},
	"beginning":      {"oldest"},
	"smallest":       {"oldest"},
	"latest":         {"newest"},
	"largest":        {"newest"},
	"end":            {"newest"},
	"lowercase":      {"lower"},
	"tolower":        {"lower"},
	"to_lower":       {"lower"},
	"downcase":       {"lower"},
	"uppercase":      {"upper"},
	"toupper":        {"upper"},
	"to_upper":       {"upper"},
	"upcase":         {"upper"},
	"length":         {"len"},
	"size":           {"len"},
	"consumer_group": {"group"},
	"group_id":       {"group"},
}

// synonym returns the candidate that name is another word for, or "".
func synonym(name string, candidates []string) string {
	for _, s := range synonyms[strings.ToLower(name)] {
		for _, c := range candidates {
			if c == s {
				return c
			}
		}
	}
	return ""
}
