//go:build !unix

package server

import "net"

// watchPeer cannot watch a socket here: requests stop when they end.
func watchPeer(net.Conn, func()) func() { return nil }
