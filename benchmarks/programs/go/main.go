// A Go program of the size of a typical Go-built proxy-wasm filter (about 3 MB of
// wasm), used only as a large module for the decode and validate benchmark.
package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

type Rule struct {
	Name    string            `json:"name"`
	Prefix  string            `json:"prefix"`
	Headers map[string]string `json:"headers"`
}

func main() {
	var rules []Rule
	_ = json.Unmarshal([]byte(`[{"name":"a","prefix":"/api/","headers":{"x-route":"api"}}]`), &rules)
	u, _ := url.Parse("http://example.com/api/v1?q=1")
	for i, r := range rules {
		keys := make([]string, 0, len(r.Headers))
		for k := range r.Headers {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Println(regexp.MustCompile("^" + r.Prefix).MatchString(u.Path))
		fmt.Println(strconv.Itoa(i), r.Name, strings.HasPrefix(u.Path, r.Prefix), keys)
	}
}
