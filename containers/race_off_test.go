//go:build !race

package containers_test

// raceDetector is true in a build with -race, where pushing tens of
// thousands of images to the fake registry takes minutes.
const raceDetector = false
