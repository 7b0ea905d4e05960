//go:build unix

package server

import (
	"net"
	"syscall"
)

// watchPeer calls left when the peer of conn closes or resets it, by
// peeking at the socket (nothing is consumed: a pipelined request stays
// for fasthttp, and bytes waiting mean the client is there, so the watch
// ends). It returns a channel closed when the watch is over, or nil when
// conn is not a socket it can watch. The caller ends the watch with a
// read deadline.
func watchPeer(conn net.Conn, left func()) chan struct{} {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var b [1]byte
		_ = raw.Read(func(fd uintptr) bool {
			n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			switch {
			case err == syscall.EAGAIN || err == syscall.EINTR:
				return false // nothing yet: wait until the socket is readable
			case err != nil || n == 0:
				left() // reset, or closed (end of stream)
			}
			return true
		})
	}()
	return done
}
