package geo

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
