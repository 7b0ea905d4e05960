// Package paper prints the gateway's paper survey forms and reads them back.
package paper
