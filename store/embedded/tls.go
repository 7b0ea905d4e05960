package embedded

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// tlsFiles are the certificates that stand in for a password on the
// embedded FerretDB: it cannot check one (its SQLite backend takes any
// user), but it does require a client certificate signed by the CA it is
// given. All are made on every start, so a copy taken earlier is of no use.
type tlsFiles struct {
	CA, ServerCert, ServerKey string
	Client                    string // the client's certificate and key, as mongo-driver's tlsCertificateKeyFile wants
}

// makeTLS writes a new CA, a server certificate for 127.0.0.1 and a client
// certificate into dir, a folder only this user may enter, each file 0600.
func makeTLS(dir string) (tlsFiles, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tlsFiles{}, fmt.Errorf("embedded mongo: create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil { // made wider by hand, or by an older version
		return tlsFiles{}, fmt.Errorf("embedded mongo: %w", err)
	}
	caKey, _, caDER, err := certificate(&x509.Certificate{
		Subject: pkix.Name{CommonName: "SIPAS gateway embedded MongoDB CA"},
		IsCA:    true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, nil, nil)
	if err != nil {
		return tlsFiles{}, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	_, srvKey, srvDER, err := certificate(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, caKey)
	if err != nil {
		return tlsFiles{}, err
	}
	_, cliKey, cliDER, err := certificate(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "gateway"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca, caKey)
	if err != nil {
		return tlsFiles{}, err
	}
	f := tlsFiles{CA: filepath.Join(dir, "ca.pem"), ServerCert: filepath.Join(dir, "server.pem"),
		ServerKey: filepath.Join(dir, "server-key.pem"), Client: filepath.Join(dir, "client.pem")}
	for path, blocks := range map[string][]*pem.Block{
		f.CA:         {{Type: "CERTIFICATE", Bytes: caDER}},
		f.ServerCert: {{Type: "CERTIFICATE", Bytes: srvDER}},
		f.ServerKey:  {{Type: "PRIVATE KEY", Bytes: srvKey}},
		f.Client:     {{Type: "CERTIFICATE", Bytes: cliDER}, {Type: "PRIVATE KEY", Bytes: cliKey}},
	} {
		var b []byte
		for _, bl := range blocks {
			b = append(b, pem.EncodeToMemory(bl)...)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return tlsFiles{}, fmt.Errorf("embedded mongo: %w", err)
		}
	}
	return f, nil
}

// certificate makes a P-256 key and a certificate for it from tmpl, signed
// by parent (self-signed when parent is nil). It returns the key, also in
// PKCS #8, and the certificate in DER.
func certificate(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, []byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl.SerialNumber = serial
	// Valid from a little before now (clocks differ by a few seconds) for
	// longer than a gateway runs between two starts.
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().AddDate(20, 0, 0)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("embedded mongo: certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	return key, pkcs8, der, nil
}
