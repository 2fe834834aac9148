module glasswasm.example/routefilter

go 1.24
