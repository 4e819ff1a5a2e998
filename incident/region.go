package incident

import "strings"

// KurdistanRegion is the region name that groups the governorates of the
// Kurdistan Region of Iraq.
const KurdistanRegion = "Kurdistan Region"

// admin1Aliases maps lower-cased spellings found in sources to the names ACLED uses.
var admin1Aliases = map[string]string{
	"al anbar": "Anbar", "al-anbar": "Anbar", "anbar": "Anbar",
	"baghdad": "Baghdad",
	"erbil":   "Erbil", "arbil": "Erbil", "irbil": "Erbil", "hawler": "Erbil",
	"duhok": "Duhok", "dohuk": "Duhok", "dahuk": "Duhok",
	"sulaymaniyah": "Sulaymaniyah", "sulaimaniyah": "Sulaymaniyah", "as sulaymaniyah": "Sulaymaniyah",
	"as-sulaymaniyah": "Sulaymaniyah", "sulaimani": "Sulaymaniyah", "slemani": "Sulaymaniyah",
	"halabja": "Halabja", "halabjah": "Halabja",
	"ninewa": "Nineveh", "nineveh": "Nineveh", "ninawa": "Nineveh",
	"salah al-din": "Salah ad-Din", "salah ad-din": "Salah ad-Din", "salahuddin": "Salah ad-Din", "sala ad-din": "Salah ad-Din",
	"kirkuk": "Kirkuk", "at-ta'mim": "Kirkuk",
	"diyala": "Diyala", "babil": "Babylon", "babylon": "Babylon",
	"karbala": "Karbala", "najaf": "Najaf", "an-najaf": "Najaf",
	"wasit": "Wasit", "qadisiyah": "Al-Qadisiyah", "al-qadisiyah": "Al-Qadisiyah", "al-qadisiyyah": "Al-Qadisiyah",
	"muthanna": "Muthanna", "al-muthanna": "Muthanna",
	"dhi qar": "Dhi Qar", "thi qar": "Dhi Qar",
	"maysan": "Maysan", "basra": "Basra", "al-basrah": "Basra", "basrah": "Basra",
	// Natural Earth's spellings (seed/regions.geojson keeps them as name_source).
	"dihok": "Duhok", "al-muthannia": "Muthanna", "dhi-qar": "Dhi Qar", "karbala'": "Karbala",
	"al-qādisiyyah": "Al-Qadisiyah",
}

// governorateISO maps ISO 3166-2:IQ codes to the names ACLED uses. IQ-KR is
// the code of the Kurdistan Region itself. Halabja, split from Sulaymaniyah
// in 2014, is left out: Natural Earth has no polygon for it.
var governorateISO = map[string]string{
	"IQ-AN": "Anbar", "IQ-AR": "Erbil", "IQ-BA": "Basra", "IQ-BB": "Babylon", "IQ-BG": "Baghdad",
	"IQ-DA": "Duhok", "IQ-DI": "Diyala", "IQ-DQ": "Dhi Qar", "IQ-KA": "Karbala", "IQ-MA": "Maysan",
	"IQ-MU": "Muthanna", "IQ-NA": "Najaf", "IQ-NI": "Nineveh", "IQ-QA": "Al-Qadisiyah",
	"IQ-SD": "Salah ad-Din", "IQ-SU": "Sulaymaniyah", "IQ-TS": "Kirkuk", "IQ-WA": "Wasit",
	"IQ-KR": KurdistanRegion,
}

// NameOfISO returns the governorate (or, for IQ-KR, the region) an ISO 3166-2
// code names, in any letter case.
func NameOfISO(code string) (string, bool) {
	n, ok := governorateISO[strings.ToUpper(strings.TrimSpace(code))]
	return n, ok
}

// IsGovernorate reports whether name is the canonical name of a governorate.
func IsGovernorate(name string) bool {
	if name == KurdistanRegion {
		return false
	}
	for _, v := range admin1Aliases {
		if v == name {
			return true
		}
	}
	return false
}

// kurdistanGovernorates are the governorates administered by the Kurdistan Regional Government.
var kurdistanGovernorates = map[string]bool{"Erbil": true, "Duhok": true, "Sulaymaniyah": true, "Halabja": true}

// CanonicalAdmin1 returns the ACLED spelling of a governorate name, or the name
// unchanged when it is not one it knows.
func CanonicalAdmin1(name string) string {
	if c, ok := admin1Aliases[strings.ToLower(strings.TrimSpace(name))]; ok {
		return c
	}
	return strings.TrimSpace(name)
}

// RegionOf returns the region an admin1 belongs to: Kurdistan Region for its four
// governorates, the governorate itself otherwise, and "" for no admin1.
func RegionOf(admin1 string) string {
	a := CanonicalAdmin1(admin1)
	if kurdistanGovernorates[a] {
		return KurdistanRegion
	}
	return a
}
