// Package spec describes a generated service tree in a form both the unit-file
// writer and the floor program read.
package spec

// Service is one generated service.
type Service struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"` // simple, notify, oneshot
	Argv     []string `json:"argv"`
	After    []int    `json:"after,omitempty"`    // indices ordered before this one (After=)
	Requires []int    `json:"requires,omitempty"` // indices this one Requires=
	Wants    []int    `json:"wants,omitempty"`    // indices this one Wants=
}

// Tree is a whole generated configuration.
type Tree struct {
	Services []Service `json:"services"`
}
