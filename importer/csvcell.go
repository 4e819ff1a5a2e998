package importer

import "incidentmap/incident"

// csvTriggers are the first characters that make a spreadsheet read a cell
// as a formula (OWASP, "CSV Injection"): = + - @, tab and carriage return.
const csvTriggers = "=+-@\t\r"

// EscapeCSVText neutralises a text value for a CSV that spreadsheets will
// open: a value that starts with a formula character, after any number of
// apostrophes, gets one more apostrophe in front, which Excel, LibreOffice
// and Google Sheets show as text and do not evaluate. Other values are
// unchanged. UnescapeCSVText undoes it exactly, for every string: the
// values it changes are precisely those this function writes.
func EscapeCSVText(s string) string {
	if formulaLike(s) {
		return "'" + s
	}
	return s
}

// UnescapeCSVText reverses EscapeCSVText: a value of one or more apostrophes
// followed by a formula character loses its first apostrophe. Import applies
// it to the text columns of every CSV, so that an export re-imports unchanged.
// (A CSV from elsewhere holding such a value, "'=1", is read as "=1": the
// apostrophe there, too, can only have been put to keep a spreadsheet from
// evaluating it.)
func UnescapeCSVText(s string) string {
	if len(s) > 1 && s[0] == '\'' && formulaLike(s[1:]) {
		return s[1:]
	}
	return s
}

// formulaLike reports whether s is apostrophes (maybe none) then a formula
// character.
func formulaLike(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			continue
		}
		for j := 0; j < len(csvTriggers); j++ {
			if s[i] == csvTriggers[j] {
				return true
			}
		}
		return false
	}
	return false
}

// csvTextColumns are the ACLED columns that hold free text (the columns of
// the String fields): the ones export escapes and import unescapes. Dates
// and numbers are written by incidentmap in fixed forms ("-33.3" is a
// number to a spreadsheet, not a formula).
var csvTextColumns = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range incident.Props {
		if f.CSV != "" && f.Kind == incident.String {
			m[f.CSV] = true
		}
	}
	return m
}()

// IsCSVTextColumn reports whether an ACLED column holds free text, escaped
// in exports with EscapeCSVText.
func IsCSVTextColumn(name string) bool { return csvTextColumns[name] }
