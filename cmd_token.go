package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
)

const tokenUsage = `Usage: incidentmap token create --name NAME [--db FILE]
       incidentmap token list            [--db FILE]
       incidentmap token revoke --name NAME [--db FILE]

Tokens allow writes through the HTTP API (Authorization: Bearer TOKEN). Only a
hash is stored: "create" prints the token once. With no valid token the write
API is off.`

// cmdToken manages the write API's tokens.
func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, tokenUsage)
		return &usageError{"token: give create, list or revoke"}
	}
	sub, rest := args[0], args[1:]
	fs := newFlagSet("token "+sub, stderr)
	db := dbFlag(fs)
	var name *string
	switch sub {
	case "create", "revoke":
		name = fs.String("name", "", "who or what uses the token (shown in the write log)")
	case "list":
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, tokenUsage)
		return nil
	default:
		fmt.Fprintln(stderr, tokenUsage)
		return &usageError{fmt.Sprintf("token: unknown subcommand %q", sub)}
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if name != nil && *name == "" {
		return &usageError{fmt.Sprintf("token %s: --name is required", sub)}
	}
	st, err := openEngine(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "create":
		secret, err := st.CreateToken(ctx, *name)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "token %q created; it is shown only this once:\n", *name)
		fmt.Fprintln(stdout, secret)
	case "revoke":
		if err := st.RevokeToken(ctx, *name); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %q revoked\n", *name)
	case "list":
		toks, err := st.Tokens(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tCREATED\tSTATUS")
		for _, t := range toks {
			status := "valid"
			if t.RevokedAt != "" {
				status = "revoked " + t.RevokedAt
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Name, t.CreatedAt, status)
		}
		return tw.Flush()
	}
	return nil
}
