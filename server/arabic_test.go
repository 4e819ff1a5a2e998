package server_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
)

// searchIDs are the ids of every incident q=… finds.
func searchIDs(t *testing.T, srv *testsrv.Server, q string) []int64 {
	t.Helper()
	var fc struct {
		NumberMatched int64 `json:"numberMatched"`
		Features      []struct {
			ID int64 `json:"id"`
		} `json:"features"`
	}
	srv.GetJSON(t, "/collections/incidents/items?limit=1000&q="+url.QueryEscape(q), 200, &fc)
	var ids []int64
	for _, f := range fc.Features {
		ids = append(ids, f.ID)
	}
	if int64(len(ids)) != fc.NumberMatched {
		t.Fatalf("q=%s: %d features, numberMatched %d", q, len(ids), fc.NumberMatched)
	}
	return ids
}

// TestArabicSearch: an Arabic place name finds what its English name finds,
// however its letters are written; Latin searches keep their meaning.
func TestArabicSearch(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	baghdad := searchIDs(t, srv, "Baghdad")
	if len(baghdad) < 3 {
		t.Fatalf("q=Baghdad finds %d seed incidents", len(baghdad))
	}
	for _, q := range []string{"بغداد", "بَغْدَاد", "بغـداد", "ببغداد"} {
		if got := searchIDs(t, srv, q); fmt.Sprint(got) != fmt.Sprint(baghdad) {
			t.Errorf("q=%s finds %v; q=Baghdad %v", q, got, baghdad)
		}
	}
	erbil := searchIDs(t, srv, "Erbil")
	for _, q := range []string{"أربيل", "اربيل", "إربيل", "Erbil أربيل"} {
		if got := searchIDs(t, srv, q); fmt.Sprint(got) != fmt.Sprint(erbil) || len(got) == 0 {
			t.Errorf("q=%s finds %v; q=Erbil %v", q, got, erbil)
		}
	}
	// Every word must still match: Baghdad and Erbil together is neither.
	if got := searchIDs(t, srv, "بغداد أربيل"); len(got) != len(searchIDs(t, srv, "Baghdad Erbil")) {
		t.Errorf("q=بغداد أربيل finds %v", got)
	}
	// A word no place is named stays a word: nothing in the seed.
	if got := searchIDs(t, srv, "مطار"); len(got) != 0 {
		t.Errorf("q=مطار finds %v in the English seed", got)
	}
	// Latin text as before.
	if got := searchIDs(t, srv, "drone*"); len(got) == 0 {
		t.Error("q=drone* finds nothing")
	}
	status, _, body := srv.Get(t, "/collections/incidents/items?q="+url.QueryEscape("ـــ"))
	if status != 400 {
		t.Errorf("q of tatweel only: %d %s, want 400 (nothing to search for)", status, body)
	}
}

// TestArabicSearchStoredText: Arabic notes are found whichever alef, ta
// marbuta or ya spelling the search or the text uses.
func TestArabicSearchStoredText(t *testing.T) {
	st := testsrv.Open(t)
	notes := []string{
		"هجوم بطائرة مسيرة على مطار أربيل الدولي",    // 1: أربيل with hamza
		"سقوط صواريخ قرب قاعدة عين الأسد في الانبار", // 2: الانبار without hamza
		"تظاهرة في مدينة البصرة",                     // 3: ta marbuta
		"قصف في محافظة ديالى",                        // 4: alef maqsura
	}
	var incs []incident.Incident
	for i, n := range notes {
		incs = append(incs, incident.Incident{EventID: fmt.Sprintf("AR-%d", i+1), EventDate: "2024-01-0" + fmt.Sprint(i+1),
			EventType: "Explosions/Remote violence", Notes: n, Lon: 44, Lat: 33, TimePrecision: 1, GeoPrecision: 1})
	}
	if _, err := st.Upsert(context.Background(), incs); err != nil {
		t.Fatal(err)
	}
	srv := testsrv.Start(t, st, nil)
	for _, tc := range []struct {
		q    string
		want string
	}{
		{"اربيل", "[1]"}, {"أربيل", "[1]"}, {"إربيل", "[1]"},
		{"الأنبار", "[2]"}, {"الانبار", "[2]"},
		{"البصره", "[3]"}, {"البصرة", "[3]"}, {"مدينه", "[3]"},
		{"ديالي", "[4]"}, {"ديالى", "[4]"},
		{"الأسد", "[2]"}, {"مطار أربيل", "[1]"}, {`"مطار اربيل"`, "[1]"},
		{"مطار البصرة", "[]"},
	} {
		if got := fmt.Sprint(searchIDs(t, srv, tc.q)); got != tc.want {
			t.Errorf("q=%s finds %s, want %s", tc.q, got, tc.want)
		}
	}
}
