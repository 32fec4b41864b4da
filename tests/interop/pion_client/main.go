// pion_client drives pion/turn's client (github.com/pion/turn/v2) against a TURN server and reports, as one JSON
// object on stdout, what came back from a UDP echo peer. tests/interop/pion_test.py builds and runs it in the
// client namespace and judges the report.
//
// pion's relayed connection sends the first datagram to a new peer address as a Send indication (RFC 8656 §10),
// with a CreatePermission before it and a ChannelBind started alongside; once the channel is bound it sends
// ChannelData (§12.4). So the run has two phases:
//
//	send     one datagram to each echo port: Send indications
//	channel  rounds of datagrams of several sizes to each port: ChannelData
//
// Credentials are a static user (-user, -password) or TURN REST API ones made from -secret with pion's own
// GenerateLongTermCredentials (username: expiry timestamp alone).
//
// -transport picks how the client reaches the server: udp (a socket of its own), tcp (a net.Conn wrapped in
// turn.NewSTUNConn, which frames STUN and padded ChannelData on the stream), or tls (crypto/tls over TCP, trusting
// only the CA in -ca and checking the server's certificate for its IP address, then NewSTUNConn).
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v2"
)

var sizes = []int{4, 5, 64, 100, 255, 256, 999, 1000, 1200, 1400}

type echo struct {
	data []byte
	from string
}

type phase struct {
	Sent         int `json:"sent"`
	EchoedIntact int `json:"echoed_intact"`
	Unexpected   int `json:"unexpected"`
}

type report struct {
	Relayed  string           `json:"relayed,omitempty"`
	Username string           `json:"username"`
	Phases   map[string]phase `json:"phases,omitempty"`
	Error    string           `json:"error,omitempty"`
}

// echoes collects what the relayed connection receives.
type echoes struct {
	mu       sync.Mutex
	received []echo
}

func (e *echoes) add(data []byte, from net.Addr) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.received = append(e.received, echo{append([]byte(nil), data...), from.String()})
}

// take waits until n echoes arrived or the timeout passed, and removes what arrived.
func (e *echoes) take(n int, timeout time.Duration) []echo {
	deadline := time.Now().Add(timeout)
	for {
		e.mu.Lock()
		count := len(e.received)
		e.mu.Unlock()
		if count >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	got := e.received
	e.received = nil
	return got
}

func payload(seq uint32, size int) []byte {
	b := make([]byte, size)
	_, _ = rand.Read(b)
	binary.BigEndian.PutUint32(b, seq)
	return b
}

// exchange sends every datagram, waits for the echoes and counts those that match what went to that peer.
func exchange(conn net.PacketConn, got *echoes, peers []*net.UDPAddr, perPeer [][]byte) (phase, error) {
	expected := map[string][][]byte{}
	var p phase
	for _, data := range perPeer {
		for _, peer := range peers {
			if _, err := conn.WriteTo(data, peer); err != nil {
				return p, fmt.Errorf("write to %s: %w", peer, err)
			}
			expected[peer.String()] = append(expected[peer.String()], data)
			p.Sent++
			time.Sleep(2 * time.Millisecond)
		}
	}
	for _, e := range got.take(p.Sent, 10*time.Second) {
		list := expected[e.from]
		matched := false
		for i, want := range list {
			if bytes.Equal(want, e.data) {
				expected[e.from] = append(list[:i], list[i+1:]...)
				matched = true
				break
			}
		}
		if matched {
			p.EchoedIntact++
		} else {
			p.Unexpected++
		}
	}
	return p, nil
}

func run(r *report) error {
	server := flag.String("server", "", "TURN server IP:port")
	local := flag.String("local", "0.0.0.0", "local IP to send from")
	user := flag.String("user", "", "static user")
	password := flag.String("password", "", "static user's password")
	secret := flag.String("secret", "", "TURN REST API shared secret (instead of -user/-password)")
	realm := flag.String("realm", "tern.test", "realm")
	peerIP := flag.String("peer", "", "echo peer IP")
	ports := flag.String("ports", "", "echo peer ports, comma separated")
	rounds := flag.Int("rounds", 3, "channel phase rounds")
	transport := flag.String("transport", "udp", "to the server: udp, tcp or tls")
	caFile := flag.String("ca", "", "PEM of the CA trusted for -transport tls")
	flag.Parse()

	username, pass := *user, *password
	if *secret != "" {
		var err error
		if username, pass, err = turn.GenerateLongTermCredentials(*secret, time.Hour); err != nil {
			return err
		}
	}
	r.Username = username

	var peers []*net.UDPAddr
	for _, p := range strings.Split(*ports, ",") {
		port, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("bad port %q", p)
		}
		peers = append(peers, &net.UDPAddr{IP: net.ParseIP(*peerIP), Port: port})
	}

	conn, err := serverConn(*transport, *local, *server, *caFile)
	if err != nil {
		return err
	}
	defer conn.Close()

	loggers := logging.NewDefaultLoggerFactory()
	loggers.DefaultLogLevel = logging.LogLevelWarn
	client, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: *server,
		TURNServerAddr: *server,
		Conn:           conn,
		Username:       username,
		Password:       pass,
		Realm:          *realm,
		LoggerFactory:  loggers,
	})
	if err != nil {
		return err
	}
	defer client.Close()
	if err = client.Listen(); err != nil {
		return err
	}

	relayConn, err := client.Allocate()
	if err != nil {
		return fmt.Errorf("allocate: %w", err)
	}
	r.Relayed = relayConn.LocalAddr().String()

	got := &echoes{}
	go func() {
		buf := make([]byte, 1600)
		for {
			n, from, readErr := relayConn.ReadFrom(buf)
			if readErr != nil {
				return
			}
			got.add(buf[:n], from)
		}
	}()

	r.Phases = map[string]phase{}
	seq := uint32(0)
	first := [][]byte{payload(seq, 100)}
	seq++
	if r.Phases["send"], err = exchange(relayConn, got, peers, first); err != nil {
		return err
	}
	var data [][]byte
	for i := 0; i < *rounds; i++ {
		for _, size := range sizes {
			data = append(data, payload(seq, size))
			seq++
		}
	}
	if r.Phases["channel"], err = exchange(relayConn, got, peers, data); err != nil {
		return err
	}
	// Closing the relayed connection deletes the allocation: Refresh with LIFETIME 0.
	return relayConn.Close()
}

// serverConn is the client's connection to the server, as the net.PacketConn pion's client takes.
func serverConn(transport, local, server, caFile string) (net.PacketConn, error) {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 10 * time.Second}
	switch transport {
	case "udp":
		return net.ListenPacket("udp4", local+":0")
	case "tcp":
		c, err := dialer.Dial("tcp4", server)
		if err != nil {
			return nil, err
		}
		return turn.NewSTUNConn(c), nil
	case "tls":
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificate in %s", caFile)
		}
		c, err := tls.DialWithDialer(dialer, "tcp4", server, &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12})
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		return turn.NewSTUNConn(c), nil
	}
	return nil, fmt.Errorf("unknown transport %q", transport)
}

func main() {
	var r report
	done := make(chan error, 1)
	go func() { done <- run(&r) }()
	select {
	case err := <-done:
		if err != nil {
			r.Error = err.Error()
		}
	case <-time.After(60 * time.Second):
		r.Error = "timed out after 60 s"
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
	if r.Error != "" {
		os.Exit(1)
	}
}
