// Package control is gosd's control API: the request and response types,
// the server on a unix socket and the client that gosdctl uses.
package control
