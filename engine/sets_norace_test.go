//go:build !race

package engine

const setsRace = false
