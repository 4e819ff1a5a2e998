// Package synth makes deterministic synthetic incidents for benchmarks and
// demonstrations: points clustered around real towns and bases of Iraq, dates
// over 2016–2025 and ACLED's vocabulary, every field filled. Incident n of a
// seed depends only on (seed, n), so any slice of a large set can be made
// alone, in any order, and the same seed always gives the same bytes.
package synth

import (
	"fmt"
	"math"
	"time"

	"incidentmap/incident"
)

// Source is the source every synthetic incident names, so they can be told
// apart from (and deleted without touching) real data.
const Source = "synthetic"

// town is a place incidents cluster around.
type town struct {
	name, admin1, admin2 string
	lon, lat             float64
	weight               int     // relative share of the incidents
	spreadKm             float64 // standard deviation of the Gaussian spread
}

// towns are real towns and bases of Iraq with their governorate (ACLED's
// spelling) and district; coordinates are the towns' centres, rounded.
// Weights loosely follow population and how often ACLED reports them.
var towns = []town{
	{"Baghdad", "Baghdad", "Karkh", 44.3661, 33.3152, 22, 7},
	{"Mosul", "Nineveh", "Mosul", 43.1189, 36.3450, 12, 5},
	{"Basra", "Basra", "Basra", 47.7804, 30.5085, 8, 5},
	{"Erbil", "Erbil", "Erbil", 44.0091, 36.1911, 5, 4},
	{"Kirkuk", "Kirkuk", "Kirkuk", 44.3922, 35.4681, 7, 4},
	{"Ramadi", "Anbar", "Ramadi", 43.3053, 33.4206, 7, 4},
	{"Fallujah", "Anbar", "Falluja", 43.7794, 33.3536, 7, 3},
	{"Al-Asad Air Base", "Anbar", "Hit", 42.4412, 33.7856, 2, 2},
	{"Camp Taji", "Baghdad", "Tarmia", 44.2560, 33.5250, 2, 2},
	{"Sulaymaniyah", "Sulaymaniyah", "Sulaymaniyah", 45.4329, 35.5613, 4, 4},
	{"Duhok", "Duhok", "Duhok", 42.9885, 36.8669, 3, 3},
	{"Najaf", "Najaf", "Najaf", 44.3152, 32.0259, 3, 3},
	{"Karbala", "Karbala", "Karbala", 44.0249, 32.6160, 3, 3},
	{"Tikrit", "Salah ad-Din", "Tikrit", 43.6793, 34.6071, 5, 4},
	{"Samarra", "Salah ad-Din", "Samarra", 43.8750, 34.1959, 4, 3},
	{"Baqubah", "Diyala", "Baquba", 44.6553, 33.7466, 5, 4},
	{"Hillah", "Babylon", "Hilla", 44.4217, 32.4637, 3, 3},
	{"Kut", "Wasit", "Kut", 45.8186, 32.5128, 2, 3},
	{"Nasiriyah", "Dhi Qar", "Nasiriya", 46.2579, 31.0439, 3, 3},
	{"Amarah", "Maysan", "Amara", 47.1397, 31.8356, 2, 3},
	{"Diwaniyah", "Al-Qadisiyah", "Diwaniya", 44.9252, 31.9929, 2, 3},
	{"Samawah", "Muthanna", "Samawa", 45.2803, 31.3099, 1, 3},
	{"Halabja", "Halabja", "Halabja", 45.9865, 35.1778, 1, 2},
	{"Al-Qaim", "Anbar", "Al-Ka'im", 41.0972, 34.3886, 2, 3},
	{"Haditha", "Anbar", "Haditha", 42.3653, 34.1306, 2, 3},
	{"Rutba", "Anbar", "Ar-Rutba", 40.2833, 33.0381, 1, 3},
	{"Sinjar", "Nineveh", "Sinjar", 41.8667, 36.3167, 2, 4},
	{"Tal Afar", "Nineveh", "Telafar", 42.4500, 36.3833, 2, 3},
	{"Baiji", "Salah ad-Din", "Baiji", 43.4900, 34.9300, 2, 3},
	{"Hit", "Anbar", "Hit", 42.8264, 33.6417, 1, 2},
	{"Zakho", "Duhok", "Zakho", 42.6833, 37.1436, 1, 2},
	{"Khanaqin", "Diyala", "Khanaqin", 45.3833, 34.3500, 1, 3},
	{"Tuz Khurmatu", "Salah ad-Din", "Tooz", 44.6333, 34.8833, 1, 2},
}

// eventKind is an ACLED event type with its sub-event types and actors.
type eventKind struct {
	eventType string
	weight    int
	subTypes  []string
	actors1   []string
	actors2   []string
	verb      string
	maxDeaths int // typical upper bound of fatalities; the tail can exceed it
}

var kinds = []eventKind{
	{"Battles", 20,
		[]string{"Armed clash", "Government regains territory", "Non-state actor overtakes territory"},
		[]string{"Military Forces of Iraq (2014-)", "PMF: Popular Mobilization Forces", "Peshmerga", "Military Forces of Turkey (2016-)"},
		[]string{"Islamic State (Iraq)", "PKK: Kurdistan Workers Party", "Unidentified Armed Group (Iraq)", "Unidentified Tribal Militia (Iraq)"},
		"clashed with", 8},
	{"Explosions/Remote violence", 35,
		[]string{"Remote explosive/landmine/IED", "Shelling/artillery/missile attack", "Air/drone strike", "Suicide bomb", "Grenade"},
		[]string{"Islamic State (Iraq)", "Unidentified Armed Group (Iraq)", "Military Forces of Turkey (2016-)", "Kataib Hezbollah", "Military Forces of Iraq (2014-)"},
		[]string{"Civilians (Iraq)", "Military Forces of Iraq (2014-)", "Police Forces of Iraq (2014-)", "PKK: Kurdistan Workers Party", "Military Forces of the United States (2017-2021)"},
		"struck", 5},
	{"Violence against civilians", 12,
		[]string{"Attack", "Abduction/forced disappearance"},
		[]string{"Islamic State (Iraq)", "Unidentified Armed Group (Iraq)", "Asaib Ahl al-Haq", "Unidentified Tribal Militia (Iraq)"},
		[]string{"Civilians (Iraq)", "Protesters (Iraq)", "Journalists (Iraq)"},
		"attacked", 3},
	{"Protests", 18,
		[]string{"Peaceful protest", "Protest with intervention", "Excessive force against protesters"},
		[]string{"Protesters (Iraq)", "Teachers (Iraq)", "Students (Iraq)", "Labor Group (Iraq)"},
		[]string{"Police Forces of Iraq (2014-)", "Civilians (Iraq)", "Government of Iraq (2014-)"},
		"demonstrated against", 1},
	{"Riots", 5,
		[]string{"Violent demonstration", "Mob violence"},
		[]string{"Rioters (Iraq)", "Tribal Group (Iraq)"},
		[]string{"Police Forces of Iraq (2014-)", "Civilians (Iraq)"},
		"rioted against", 1},
	{"Strategic developments", 10,
		[]string{"Arrests", "Looting/property destruction", "Disrupted weapons use", "Headquarters or base established", "Other"},
		[]string{"Police Forces of Iraq (2014-)", "Military Forces of Iraq (2014-)", "Counter Terrorism Service (Iraq)", "KDP: Kurdistan Democratic Party"},
		[]string{"Islamic State (Iraq)", "Civilians (Iraq)", "Unidentified Armed Group (Iraq)"},
		"acted against", 0},
}

var (
	townTotal = totalWeight(len(towns), func(i int) int { return towns[i].weight })
	kindTotal = totalWeight(len(kinds), func(i int) int { return kinds[i].weight })
	// firstDay and days span 2016-01-01 to 2025-12-31.
	firstDay = time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)
	days     = int(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Sub(firstDay).Hours() / 24)
)

func totalWeight(n int, w func(int) int) int {
	t := 0
	for i := range n {
		t += w(i)
	}
	return t
}

// pick returns the index whose cumulative weight covers r in [0, total).
func pick(r, n int, w func(int) int) int {
	for i := range n {
		r -= w(i)
		if r < 0 {
			return i
		}
	}
	return n - 1
}

// EventID is the event_id of incident n (1-based) of a seed.
func EventID(seed int64, n int) string {
	return fmt.Sprintf("SYN-%d-%d", seed, n)
}

// Incident returns incident n (1-based) of seed. It is a pure function of its
// arguments. The result is normalized and valid; ID is n and UpdatedAt a
// fixed time derived from the date, so encodings are reproducible.
func Incident(seed int64, n int) incident.Incident {
	r := newRand(seed, n)
	t := towns[pick(r.intn(townTotal), len(towns), func(i int) int { return towns[i].weight })]
	k := kinds[pick(r.intn(kindTotal), len(kinds), func(i int) int { return kinds[i].weight })]

	// One incident in ten happens out of town: a wider spread and a vaguer place.
	spread, rural := t.spreadKm, r.intn(10) == 0
	if rural {
		spread *= 5
	}
	dx, dy := r.normal(), r.normal()
	// Clip the tail at 3.5 sigma so no point lands far off in another country.
	for _, d := range []*float64{&dx, &dy} {
		*d = math.Max(-3.5, math.Min(3.5, *d))
	}
	lat := t.lat + dy*spread/111.32
	lon := t.lon + dx*spread/(111.32*math.Cos(t.lat*math.Pi/180))

	geoPrec := 1
	switch x := r.intn(10); {
	case x >= 9:
		geoPrec = 3
	case x >= 6:
		geoPrec = 2
	}
	location, place := t.name, "in "+t.name
	if rural || geoPrec > 1 {
		location = "near " + t.name
		place = location
	}
	timePrec := 1
	switch x := r.intn(20); {
	case x >= 19:
		timePrec = 3
	case x >= 17:
		timePrec = 2
	}
	date := firstDay.AddDate(0, 0, r.intn(days)).Format(incident.DateLayout)

	deaths := 0
	if k.maxDeaths > 0 {
		deaths = r.intn(k.maxDeaths + 1)
		if r.intn(50) == 0 { // the rare mass-casualty event
			deaths += 10 + r.intn(40)
		}
	}
	a1 := k.actors1[r.intn(len(k.actors1))]
	a2 := k.actors2[r.intn(len(k.actors2))]
	sub := k.subTypes[r.intn(len(k.subTypes))]
	id := EventID(seed, n)
	inc := incident.Incident{
		ID:            int64(n),
		EventID:       id,
		EventDate:     date,
		TimePrecision: timePrec,
		EventType:     k.eventType,
		SubEventType:  sub,
		Actor1:        a1,
		Actor2:        a2,
		Admin1:        t.admin1,
		Admin2:        t.admin2,
		Location:      location,
		GeoPrecision:  geoPrec,
		Fatalities:    deaths,
		Source:        Source,
		SourceURL:     "https://example.org/incidentmap/synthetic/" + id,
		Notes: fmt.Sprintf("On %s, %s %s %s %s (%s). %s. %d reported killed. Synthetic record.",
			date, a1, k.verb, a2, place, t.admin1, sub, deaths),
		Tags:      "synthetic",
		Lon:       lon,
		Lat:       lat,
		UpdatedAt: date + "T12:00:00Z",
	}
	inc.Normalize()
	return inc
}

// rng is splitmix64: tiny, fast and the same on every platform, unlike
// math/rand's streams, which Go does not promise to keep.
type rng struct{ s uint64 }

func newRand(seed int64, n int) *rng {
	r := &rng{s: uint64(seed)*0x9E3779B97F4A7C15 ^ uint64(n)*0xD1B54A32D192ED03}
	r.next() // decorrelate neighbouring n
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); the modulo bias is negligible for small n.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// float returns a number in (0, 1].
func (r *rng) float() float64 { return (float64(r.next()>>11) + 1) / (1 << 53) }

// normal is a standard normal variate (Box–Muller).
func (r *rng) normal() float64 {
	return math.Sqrt(-2*math.Log(r.float())) * math.Cos(2*math.Pi*r.float())
}
