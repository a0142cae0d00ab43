//go:build cgo

package pouw

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// mapStore is a BlobStore over a map, recording what was asked for; panicGet makes Get panic.
type mapStore struct {
	mu       sync.Mutex
	m        map[string][]byte
	panicGet bool
	asked    []string
}

func newMapStore() *mapStore { return &mapStore{m: map[string][]byte{}} }

func (s *mapStore) Get(cid []byte, limit uint64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, string(cid))
	if s.panicGet {
		panic("a broken BlobStore")
	}
	b, ok := s.m[string(cid)]
	if !ok {
		return nil, fmt.Errorf("looked everywhere: %w", ErrNotFound)
	}
	return b, nil
}

func (s *mapStore) Put(cid, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if string(cid) == "" {
		return errors.New("no cid")
	}
	s.m[string(cid)] = append([]byte(nil), data...)
	return nil
}

// TestCallbackStore: a round trip through a Go BlobStore, NotFound, a panicking Get.
func TestCallbackStore(t *testing.T) {
	blobs := newMapStore()
	store, err := NewCallbackStore(blobs)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	object := bytes.Repeat([]byte("checkpoint "), 1000)
	cid, err := store.Put(object)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := CidOf(object); !bytes.Equal(cid, want) {
		t.Fatalf("put returned %x, want %x", cid, want)
	}
	if !bytes.Equal(blobs.m[string(cid)], object) {
		t.Fatal("the BlobStore did not get the object")
	}
	got, err := store.Get(cid)
	if err != nil || !bytes.Equal(got, object) {
		t.Fatalf("get: %v", err)
	}
	// Concurrent gets.
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if b, err := store.Get(cid); err != nil || !bytes.Equal(b, object) {
					t.Errorf("concurrent get: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()

	other, _ := CidOf([]byte("never stored"))
	_, err = store.Get(other)
	if !IsCode(err, CodeNotFound) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("absent object: %v", err)
	}
	// Bytes that are not the object: CodeBadBlock.
	blobs.m[string(cid)] = []byte("something else")
	if _, err := store.Get(cid); !IsCode(err, CodeBadBlock) {
		t.Fatalf("tampered object: %v", err)
	}
	// A panicking Get is a store error, not a crash.
	blobs.panicGet = true
	if _, err := store.Get(cid); !IsCode(err, CodeStore) {
		t.Fatalf("panicking get: %v", err)
	}
	if _, err := NewCallbackStore(nil); !IsCode(err, CodeNullArgument) {
		t.Fatalf("nil BlobStore: %v", err)
	}
}

// timeoutStore times out on every get.
type timeoutStore struct{}

func (timeoutStore) Get([]byte, uint64) ([]byte, error) {
	return nil, fmt.Errorf("peer slow: %w", ErrTimeout)
}
func (timeoutStore) Put([]byte, []byte) error { panic("no puts") }

// nilPanicStore panics with a nil value, which recover() cannot tell from no panic.
type nilPanicStore struct{}

func (nilPanicStore) Get([]byte, uint64) ([]byte, error) { panic(nil) }
func (nilPanicStore) Put([]byte, []byte) error           { panic(nil) }

// TestCallbackStorePanicNil: panic(nil) in a BlobStore is a store failure, not a success (a put
// that stored nothing) nor a wrong answer (BadBlock, "ban the peer").
func TestCallbackStorePanicNil(t *testing.T) {
	store, err := NewCallbackStore(nilPanicStore{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Put([]byte("x")); !IsCode(err, CodeStore) {
		t.Fatalf("put: %v", err)
	}
	cid, _ := CidOf([]byte("x"))
	if _, err := store.Get(cid); !IsCode(err, CodeStore) {
		t.Fatalf("get: %v", err)
	}
}

func TestCallbackStoreTimeoutAndPanickingPut(t *testing.T) {
	store, err := NewCallbackStore(timeoutStore{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cid, _ := CidOf([]byte("x"))
	if _, err := store.Get(cid); !IsCode(err, CodeTimeout) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("timeout: %v", err)
	}
	if _, err := store.Put([]byte("x")); !IsCode(err, CodeStore) {
		t.Fatalf("panicking put: %v", err)
	}
}

func TestOpenIPFSStore(t *testing.T) {
	if _, err := OpenIPFSStore("ftp://127.0.0.1:5001", IPFSOptions{}); !IsCode(err, CodeInvalidParameters) {
		t.Fatalf("ftp endpoint: %v", err)
	}
	if _, err := OpenIPFSStore("http://127.0.0.1:5001", IPFSOptions{BlockTimeout: -1}); !IsCode(err, CodeInvalidArgument) {
		t.Fatalf("negative timeout: %v", err)
	}
	if _, err := OpenIPFSStore("http://127.0.0.1:5001", IPFSOptions{ParallelFetches: 65}); !IsCode(err, CodeInvalidParameters) {
		t.Fatalf("65 parallel fetches: %v", err)
	}
	if _, err := OpenIPFSStore("http://127.0.0.1:5001", IPFSOptions{AnswerGrace: 25 * time.Hour}); !IsCode(err, CodeInvalidParameters) {
		t.Fatalf("a grace over a day: %v", err)
	}
	// Nothing listens on the discard port.
	store, err := OpenIPFSStore("http://127.0.0.1:9", IPFSOptions{LocalOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cid, _ := CidOf([]byte("x"))
	if _, err := store.Get(cid); !IsCode(err, CodeStore) {
		t.Fatalf("unreachable node: %v", err)
	}
}

// TestIPFSOptionsReachTheNode: the block timeout and LocalOnly reach the node's query, and a
// silent node times out after the block timeout and the answer grace.
func TestIPFSOptionsReachTheNode(t *testing.T) {
	queries := make(chan string, 1)
	node := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries <- r.URL.RawQuery
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"Message":"block not found","Code":0}`))
	}))
	defer node.Close()
	store, err := OpenIPFSStore(node.URL, IPFSOptions{BlockTimeout: 250 * time.Millisecond, LocalOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cid, _ := CidOf([]byte("x"))
	if _, err := store.Get(cid); !IsCode(err, CodeNotFound) {
		t.Fatalf("missing block: %v", err)
	}
	if q := <-queries; !strings.Contains(q, "timeout=250ms") || !strings.Contains(q, "offline=true") {
		t.Fatalf("query %q", q)
	}

	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	opts := IPFSOptions{BlockTimeout: 200 * time.Millisecond, AnswerGrace: 200 * time.Millisecond}
	quiet, err := OpenIPFSStore("http://"+silent.Addr().String(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer quiet.Close()
	started := time.Now()
	if _, err := quiet.Get(cid); !IsCode(err, CodeTimeout) {
		t.Fatalf("silent node: %v", err)
	}
	if waited := time.Since(started); waited < 400*time.Millisecond || waited > 10*time.Second {
		t.Fatalf("silent node answered TIMEOUT after %v", waited)
	}
}

// TestGoldenProofThroughCallbackStore: the golden proof's RequiredCIDs are in the golden store,
// and a BlobStore serving only them and the genesis verifies it.
func TestGoldenProofThroughCallbackStore(t *testing.T) {
	g := loadGolden(t)
	cids, err := RequiredCIDs(g.params, g.proof)
	if err != nil {
		t.Fatal(err)
	}
	if len(cids) < 2 {
		t.Fatalf("%d required CIDs", len(cids))
	}
	blobs := newMapStore()
	for _, cid := range cids {
		text, err := CidString(cid)
		if err != nil {
			t.Fatal(err)
		}
		blobs.m[string(cid)] = g.stored(t, text)
	}
	genesis, err := ParseCid(g.genesisText)
	if err != nil {
		t.Fatal(err)
	}
	blobs.m[string(genesis)] = g.genesis
	store, err := NewCallbackStore(blobs)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := Verify(g.request(t, store)); err != nil {
		t.Fatalf("golden proof rejected through a callback store: %v", err)
	}
	if _, err := RequiredCIDs(g.params, g.proof[:len(g.proof)/2]); !IsCode(err, CodeTruncated) {
		t.Fatalf("truncated proof: %v", err)
	}
}

// TestIPFSStoreRoundTrip puts a two-block file on the loopback node the test suite starts
// (POUW_IPFS_A) and reads it back through the C library's IPFS store.
func TestIPFSStoreRoundTrip(t *testing.T) {
	endpoint := os.Getenv("POUW_IPFS_A")
	if endpoint == "" {
		t.Fatal("POUW_IPFS_A is unset: scripts/test-ffi.sh starts loopback IPFS nodes (scripts/ipfs-node.sh)")
	}
	store, err := OpenIPFSStore(endpoint, IPFSOptions{BlockTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	data := make([]byte, 300_000)
	for i := range data {
		data[i] = byte(i*7 + time.Now().Nanosecond())
	}
	cid, err := store.Put(data)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := CidOf(data)
	if !bytes.Equal(cid, want) {
		t.Fatalf("the node named the file %x, pouw %x", cid, want)
	}
	back, err := store.Get(cid)
	if err != nil || !bytes.Equal(back, data) {
		t.Fatalf("read back: %v", err)
	}
}
