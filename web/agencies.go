package web

import (
	"cmp"
	"slices"

	"github.com/sipasvn/gateway/server"
)

// levelNames name agency levels (core.Levels) as offices say them.
var levelNames = map[string]string{
	"province": "Tỉnh", "department": "Sở/Ban/Ngành", "district": "Huyện", "commune": "Xã", "unit": "Đơn vị trực thuộc",
}

// roleNames name key and user roles (core.RoleAdmin…) as the pages show them.
var roleNames = map[string]string{"admin": "Quản trị toàn tỉnh", "agency": "Cán bộ cơ quan", "viewer": "Chỉ xem báo cáo"}

// agencyRow is an agency in the tree as the page lists it.
type agencyRow struct {
	server.AgencyEntry
	Depth             int // 0 for a root; the page indents by it
	LevelName, Parent string
}

// maxDepth is the deepest indentation the stylesheet has.
const maxDepth = 5

// agencyTree orders agencies parent first, each followed by its
// children by name, with their depth; an agency whose parent is not
// listed (or a cycle) starts a tree of its own.
func agencyTree(all []server.AgencyEntry, lang string) []agencyRow {
	names, children := map[string]string{}, map[string][]server.AgencyEntry{}
	for _, a := range all {
		names[a.Code] = a.Name
	}
	var roots []server.AgencyEntry
	for _, a := range all {
		if _, ok := names[a.Parent]; ok && a.Parent != a.Code {
			children[a.Parent] = append(children[a.Parent], a)
		} else {
			roots = append(roots, a)
		}
	}
	byName := func(a, b server.AgencyEntry) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Code, b.Code))
	}
	out, seen := []agencyRow{}, map[string]bool{}
	var walk func(a server.AgencyEntry, depth int)
	walk = func(a server.AgencyEntry, depth int) {
		if seen[a.Code] {
			return
		}
		seen[a.Code] = true
		out = append(out, agencyRow{AgencyEntry: a, Depth: min(depth, maxDepth), Parent: names[a.Parent],
			LevelName: translate(lang, cmp.Or(levelNames[a.Level], a.Level))})
		kids := children[a.Code]
		slices.SortFunc(kids, byName)
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	slices.SortFunc(roots, byName)
	for _, r := range roots {
		walk(r, 0)
	}
	for _, a := range all { // in a cycle, unreachable from any root
		walk(a, 0)
	}
	return out
}
