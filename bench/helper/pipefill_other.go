//go:build !linux

package main

func pipeFill(fd int) int { return -1 }
