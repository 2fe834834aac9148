// A proxy-wasm HTTP filter written in Go, of the size Go-built filters have
// (about 3 MB of wasm: the Go runtime, encoding/json, regexp, fmt, net/url).
// It speaks the ABI (0.2.1) directly through go:wasmimport and go:wasmexport
// (Go 1.24 and newer), so it needs no SDK. It is the large module of the
// start-up benchmark (benchmarks/test_start.py): routes configured as JSON,
// matched by regular expression, a header added, a denied route answered
// locally with a JSON body, a metric and a log line per request.
package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unsafe"
)

//go:wasmimport env proxy_log
func proxyLog(level int32, message *byte, size int32) int32

//go:wasmimport env proxy_get_buffer_bytes
func proxyGetBufferBytes(bufferType int32, start int32, maxSize int32, data *uint32, size *int32) int32

//go:wasmimport env proxy_get_header_map_value
func proxyGetHeaderMapValue(mapType int32, key *byte, keySize int32, value *uint32, valueSize *int32) int32

//go:wasmimport env proxy_add_header_map_value
func proxyAddHeaderMapValue(mapType int32, key *byte, keySize int32, value *byte, valueSize int32) int32

//go:wasmimport env proxy_send_local_response
func proxySendLocalResponse(status int32, details *byte, detailsSize int32, body *byte, bodySize int32,
	headers *byte, headersSize int32, grpcStatus int32) int32

//go:wasmimport env proxy_define_metric
func proxyDefineMetric(metricType int32, name *byte, nameSize int32, id *uint32) int32

//go:wasmimport env proxy_increment_metric
func proxyIncrementMetric(id uint32, offset int64) int32

const (
	requestHeaders    = 0
	responseHeaders   = 2
	pluginConfigBuf   = 7
	logInfo           = 2
	metricCounter     = 0
	actionContinue    = 0
	actionStop        = 1
)

type Route struct {
	Name    string            `json:"name"`
	Path    string            `json:"path"`
	Methods []string          `json:"methods"`
	Deny    bool              `json:"deny"`
	Headers map[string]string `json:"headers"`
	pattern *regexp.Regexp
}

type Config struct {
	Routes []Route `json:"routes"`
	Header string  `json:"header"`
}

var (
	config      Config
	requests    uint32
	allocations = map[uintptr][]byte{}
	routeOf     = map[uint32]string{}
)

func bytesOf(s string) (*byte, int32) {
	if len(s) == 0 {
		return nil, 0
	}
	return unsafe.StringData(s), int32(len(s))
}

func logf(format string, args ...any) {
	message := fmt.Sprintf(format, args...)
	pointer, size := bytesOf(message)
	proxyLog(logInfo, pointer, size)
}

// take copies what the host wrote into memory it allocated through
// proxy_on_memory_allocate, and lets that memory go.
func take(address uint32, size int32) string {
	buffer, ok := allocations[uintptr(address)]
	if !ok || int(size) > len(buffer) {
		return ""
	}
	delete(allocations, uintptr(address))
	return string(buffer[:size])
}

func header(mapType int32, name string) (string, bool) {
	var value uint32
	var size int32
	key, keySize := bytesOf(name)
	if proxyGetHeaderMapValue(mapType, key, keySize, &value, &size) != 0 {
		return "", false
	}
	return take(value, size), true
}

func addHeader(mapType int32, name, value string) {
	key, keySize := bytesOf(name)
	data, size := bytesOf(value)
	proxyAddHeaderMapValue(mapType, key, keySize, data, size)
}

//go:wasmexport proxy_abi_version_0_2_1
func proxyAbiVersion() {}

//go:wasmexport proxy_on_memory_allocate
func proxyOnMemoryAllocate(size uint32) *byte {
	buffer := make([]byte, size+1)
	pointer := &buffer[0]
	allocations[uintptr(unsafe.Pointer(pointer))] = buffer
	return pointer
}

//go:wasmexport proxy_on_context_create
func proxyOnContextCreate(contextID, parentID uint32) {}

//go:wasmexport proxy_on_vm_start
func proxyOnVMStart(contextID, size uint32) uint32 { return 1 }

//go:wasmexport proxy_on_configure
func proxyOnConfigure(contextID, size uint32) uint32 {
	var data uint32
	var length int32
	if proxyGetBufferBytes(pluginConfigBuf, 0, int32(size), &data, &length) != 0 {
		logf("route filter: no configuration")
		return 0
	}
	text := take(data, length)
	if err := json.Unmarshal([]byte(text), &config); err != nil {
		logf("route filter: bad configuration: %v", err)
		return 0
	}
	for i := range config.Routes {
		route := &config.Routes[i]
		pattern, err := regexp.Compile(route.Path)
		if err != nil {
			logf("route filter: route %q: %v", route.Name, err)
			return 0
		}
		route.pattern = pattern
	}
	if config.Header == "" {
		config.Header = "x-route"
	}
	names := make([]string, 0, len(config.Routes))
	for _, route := range config.Routes {
		names = append(names, route.Name)
	}
	sort.Strings(names)
	logf("route filter: %d routes (%s)", len(config.Routes), strings.Join(names, ", "))
	return 1
}

func matches(route *Route, method string) bool {
	if len(route.Methods) == 0 {
		return true
	}
	for _, allowed := range route.Methods {
		if strings.EqualFold(allowed, method) {
			return true
		}
	}
	return false
}

//go:wasmexport proxy_on_request_headers
func proxyOnRequestHeaders(contextID, headers, endOfStream uint32) uint32 {
	requests++
	path, _ := header(requestHeaders, ":path")
	method, _ := header(requestHeaders, ":method")
	parsed, err := url.ParseRequestURI(path)
	if err != nil {
		logf("route filter: bad path %q: %v", path, err)
		return actionContinue
	}
	for i := range config.Routes {
		route := &config.Routes[i]
		if !route.pattern.MatchString(parsed.Path) || !matches(route, method) {
			continue
		}
		routeOf[contextID] = route.Name
		counter(route.Name)
		if route.Deny {
			body, _ := json.Marshal(map[string]any{
				"error": "denied", "route": route.Name, "path": parsed.Path, "query": parsed.Query(),
			})
			details, detailsSize := bytesOf("route_denied")
			data, size := bytesOf(string(body))
			proxySendLocalResponse(403, details, detailsSize, data, size, nil, 0, -1)
			logf("route filter: %s %s denied by %s", method, parsed.Path, route.Name)
			return actionStop
		}
		addHeader(requestHeaders, config.Header, route.Name)
		keys := make([]string, 0, len(route.Headers))
		for key := range route.Headers {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			addHeader(requestHeaders, key, route.Headers[key])
		}
		logf("route filter: %s %s -> %s", method, parsed.Path, route.Name)
		return actionContinue
	}
	logf("route filter: %s %s matches no route", method, parsed.Path)
	return actionContinue
}

//go:wasmexport proxy_on_response_headers
func proxyOnResponseHeaders(contextID, headers, endOfStream uint32) uint32 {
	if name, ok := routeOf[contextID]; ok {
		addHeader(responseHeaders, "x-route-served", name+"#"+strconv.FormatUint(uint64(requests), 10))
	}
	return actionContinue
}

//go:wasmexport proxy_on_done
func proxyOnDone(contextID uint32) uint32 { return 1 }

//go:wasmexport proxy_on_delete
func proxyOnDelete(contextID uint32) { delete(routeOf, contextID) }

var metrics = map[string]uint32{}

func counter(route string) {
	id, ok := metrics[route]
	if !ok {
		name, size := bytesOf("route_filter.requests." + route)
		proxyDefineMetric(metricCounter, name, size, &id)
		metrics[route] = id
	}
	proxyIncrementMetric(id, 1)
}

func main() {}
