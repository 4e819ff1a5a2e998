package store

import (
	"reflect"
	"testing"
	"time"
)

func TestCutPeriods(t *testing.T) {
	d := func(s string) time.Time {
		v, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	m := func(ym int) int { return monthPeriod + ym }
	for _, c := range []struct {
		a, b string
		want periodSpan
	}{
		{"2021-01-01", "2021-12-31", periodSpan{years: [][2]int{{2021, 2021}}}},
		{"2021-01-01", "2023-12-31", periodSpan{years: [][2]int{{2021, 2023}}}},
		{"2021-02-01", "2021-02-28", periodSpan{months: [][2]int{{m(202102), m(202102)}}}},
		{"2021-02-01", "2021-11-30", periodSpan{months: [][2]int{{m(202102), m(202111)}}}},
		{"2021-02-01", "2021-12-31", periodSpan{months: [][2]int{{m(202102), m(202112)}}}},
		{"2021-01-01", "2021-11-30", periodSpan{months: [][2]int{{m(202101), m(202111)}}}},
		{"2021-03-01", "2022-05-31", periodSpan{months: [][2]int{{m(202103), m(202112)}, {m(202201), m(202205)}}}},
		{"2018-03-15", "2022-02-10", periodSpan{
			days:   [][2]string{{"2018-03-15", "2018-03-31"}, {"2022-02-01", "2022-02-10"}},
			months: [][2]int{{m(201804), m(201812)}, {m(202201), m(202201)}},
			years:  [][2]int{{2019, 2021}}}},
		{"2020-07-04", "2020-07-04", periodSpan{days: [][2]string{{"2020-07-04", "2020-07-04"}}}},
		{"2020-07-01", "2020-07-30", periodSpan{days: [][2]string{{"2020-07-01", "2020-07-30"}}}},
		{"2020-07-02", "2020-07-31", periodSpan{days: [][2]string{{"2020-07-02", "2020-07-31"}}}},
		{"2020-07-02", "2020-08-30", periodSpan{days: [][2]string{{"2020-07-02", "2020-07-31"}, {"2020-08-01", "2020-08-30"}}}},
		{"2017-12-01", "2018-01-31", periodSpan{months: [][2]int{{m(201712), m(201712)}, {m(201801), m(201801)}}}},
		{"2020-02-29", "2020-02-29", periodSpan{days: [][2]string{{"2020-02-29", "2020-02-29"}}}},
		{"0001-01-01", "9999-12-31", periodSpan{years: [][2]int{{1, 9999}}}},
		{"2021-05-02", "2021-05-01", periodSpan{}},
	} {
		if got := cutPeriods(d(c.a), d(c.b)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s…%s: %+v, want %+v", c.a, c.b, got, c.want)
		}
	}
}
