// The CRDs the cluster tests validate rendered objects against, pinned as Go modules.
// Nothing here is built: `make schemas` downloads each require through the Go module proxy
// into GOMODCACHE (outside the repo); tests/cluster/crd_schema.py reads the CRDs from there
// and checks each download against go.sum.
//
// - github.com/tigera/operator v1.40.0 is the operator of Calico v3.31.0
//   (config/calico_versions.yml: "title: v3.31.0"). pkg/crds/operator/ holds the
//   operator.tigera.io CRDs (Installation, APIServer, GatewayAPI); pkg/crds/calico/ the
//   crd.projectcalico.org CRDs it installs for Calico 3.31.0 (IPPool). The chart v3.31.3's
//   operator, v1.40.3, is refused by the proxy (403), as are v1.40.1 and v1.40.2.
// - github.com/projectcalico/api is not required: every v3.31 version is refused (403), and
//   the only served version (v0.0.0-20240708202104-e3f70b269c2c, the one this operator
//   requires) has no config/crd/ folder.
// - sigs.k8s.io/gateway-api v1.6.3: config/crd/standard/ (Gateway, HTTPRoute, ReferenceGrant).
module lanes.local/schemas

go 1.24

require (
	github.com/tigera/operator v1.40.0
	sigs.k8s.io/gateway-api v1.6.3
)
