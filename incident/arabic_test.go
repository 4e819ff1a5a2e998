package incident_test

import (
	"slices"
	"strings"
	"testing"

	"incidentmap/incident"
)

func TestFoldArabic(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"أربيل", "اربيل"},
		{"إربيل", "اربيل"},
		{"آمرلي", "امرلي"},
		{"ٱلموصل", "الموصل"},
		{"البصرة", "البصره"},
		{"ديالى", "ديالي"},
		{"بَغْدَاد", "بغداد"},
		{"بغـــداد", "بغداد"},
		{"مُحَافَظَةٌ", "محافظه"},
		{"Baghdad", "Baghdad"},
		{"Erbil أربيل 2021", "Erbil اربيل 2021"},
		{"", ""},
	} {
		if got := incident.FoldArabic(tc.in); got != tc.want {
			t.Errorf("FoldArabic(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestArabicSpellings(t *testing.T) {
	got := incident.ArabicSpellings("البصره", 16)
	// the article's alef stays bare; the final ha may be ta marbuta
	if strings.Join(got, " ") != "البصره البصرة" {
		t.Errorf("البصره: %q", got)
	}
	got = incident.ArabicSpellings("اربيل", 16)
	if len(got) != 4 || got[0] != "اربيل" || !slices.Contains(got, "أربيل") || !slices.Contains(got, "إربيل") {
		t.Errorf("اربيل: %q", got)
	}
	got = incident.ArabicSpellings("ديالي", 16)
	if !slices.Contains(got, "ديالى") || !slices.Contains(got, "ديالي") {
		t.Errorf("ديالي: %q", got)
	}
	// many alefs: bounded, the folded spelling first
	got = incident.ArabicSpellings("ااااااا", 16)
	if len(got) != 16 || got[0] != "ااااااا" {
		t.Errorf("seven alefs: %d spellings, first %q", len(got), got[0])
	}
	for _, s := range got {
		if incident.FoldArabic(s) != "ااااااا" {
			t.Errorf("spelling %q does not fold back", s)
		}
	}
	if got := incident.ArabicSpellings("Baghdad", 16); len(got) != 1 || got[0] != "Baghdad" {
		t.Errorf("Baghdad: %q", got)
	}
}
