// Package yamlsrc decodes YAML strictly and reports every error with the
// file, line, column and field it concerns, so a user can fix bad input fast.
package yamlsrc
