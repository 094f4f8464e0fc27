package main

import (
	"net"
	"sync"
	"testing"
	"time"
)

// tcpProxy forwards TCP connections to a target (a node's database, in the
// cluster tests) and can cut them off in two ways until restore: cut closes
// every live connection and refuses new ones (a database that went away),
// silence keeps every connection open but passes no byte either way (a
// network that drops packets).
type tcpProxy struct {
	ln     net.Listener
	target string

	mu       sync.Mutex
	cutOff   bool
	closed   bool
	flowing  chan struct{}         // closed while bytes pass; open while silenced
	conns    map[net.Conn]struct{} // both ends of every live forwarded connection
	accepted int                   // connections forwarded
	refused  int                   // connections closed at once while cut off
}

// startProxy listens on 127.0.0.1:0 and forwards to target until the test
// ends.
func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}, flowing: make(chan struct{})}
	close(p.flowing)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// Addr is where the proxy listens (host:port).
func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		if !p.track(c, true) {
			c.Close() // cut off: the dialer sees the connection end at once
			continue
		}
		go p.forward(c)
	}
}

// track adds c to the live connections, unless the proxy is cut off or
// closed. accepted counts a new client connection.
func (p *tcpProxy) track(c net.Conn, accepted bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cutOff || p.closed {
		if accepted {
			p.refused++
		}
		return false
	}
	if accepted {
		p.accepted++
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *tcpProxy) drop(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *tcpProxy) forward(client net.Conn) {
	defer p.drop(client)
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	if !p.track(up, false) { // cut while dialing
		up.Close()
		return
	}
	defer p.drop(up)
	done := make(chan struct{}, 2)
	go func() { p.pipe(up, client); done <- struct{}{} }()
	go func() { p.pipe(client, up); done <- struct{}{} }()
	<-done
	// One direction ended: end both, so neither side waits on a half-open
	// connection.
	client.Close()
	up.Close()
	<-done
}

// pipe copies src to dst, holding what it read while the proxy is
// silenced.
func (p *tcpProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			flowing := p.flowing
			p.mu.Unlock()
			<-flowing
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cut closes every live connection and refuses new ones until restore. It
// returns how many sockets it closed (two per forwarded connection).
func (p *tcpProxy) cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutOff = true
	n := len(p.conns)
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	return n
}

// silence keeps every connection, old and new, open but passes nothing
// until restore.
func (p *tcpProxy) silence() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.flowing:
		p.flowing = make(chan struct{})
	default: // silenced already
	}
}

// restore undoes cut and silence: new connections are forwarded, and what
// silenced connections held goes through.
func (p *tcpProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutOff = false
	select {
	case <-p.flowing:
	default:
		close(p.flowing)
	}
}

// stats returns how many connections were forwarded and refused so far.
func (p *tcpProxy) stats() (accepted, refused int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted, p.refused
}

func (p *tcpProxy) close() {
	p.mu.Lock()
	p.closed = true
	select {
	case <-p.flowing:
	default:
		close(p.flowing) // let held copies finish; their connections are closed below
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	p.mu.Unlock()
	p.ln.Close()
}
