//go:build unix

package server

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// watchPeer calls left when the peer of conn closes or resets it, or the
// connection is closed under the watch (fasthttp does once a write to a
// gone client fails). It peeks at the socket, so nothing is consumed: a
// pipelined request stays for fasthttp, and bytes waiting mean the client
// is there, so the watch ends. It returns how to end the watch (waiting
// until it is over), or nil when conn is not a socket it can watch.
func watchPeer(conn net.Conn, left func()) func() {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	var mu sync.Mutex
	stopping := false
	done := make(chan struct{})
	go func() {
		defer close(done)
		var b [1]byte
		peek := func(fd uintptr) bool {
			n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			switch {
			case err == syscall.EAGAIN || err == syscall.EINTR:
				return false // nothing yet: wait until the socket is readable
			case err != nil || n == 0:
				left() // reset, or closed (end of stream)
			}
			return true
		}
		for {
			err := raw.Read(peek)
			mu.Lock()
			quit := err == nil || stopping
			if !quit && errors.Is(err, os.ErrDeadlineExceeded) {
				// fasthttp's read timeout, set when the request came in,
				// would end the watch of a long report: watch on (fasthttp
				// sets its deadline again before it reads the next request).
				_ = conn.SetReadDeadline(time.Time{})
			}
			mu.Unlock()
			switch {
			case quit:
				return
			case !errors.Is(err, os.ErrDeadlineExceeded):
				left() // closed under the watch
				return
			}
		}
	}()
	return func() {
		mu.Lock()
		stopping = true
		_ = conn.SetReadDeadline(time.Now()) // wakes the watch
		mu.Unlock()
		<-done
		_ = conn.SetReadDeadline(time.Time{})
	}
}
