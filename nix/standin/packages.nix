# Tiny stand-in packages: each is a real derivation whose bin/<pname> prints its name
# and version. Test and demo data for real Nix, not software.
{ system }:
let
  mkPackage = { pname, version, description }:
    (builtins.derivation {
      name = "${pname}-${version}";
      inherit system pname version;
      builder = "/bin/sh";
      PATH = "/bin";
      args = [
        "-c"
        ''
          mkdir -p $out/bin
          printf '#!/bin/sh\necho "%s %s"\n' "$pname" "$version" > $out/bin/$pname
          chmod +x $out/bin/$pname
        ''
      ];
    }) // { meta = { inherit description; }; };

  list = [
    { pname = "hello"; version = "2.12.1"; description = "A program that produces a familiar, friendly greeting"; }
    { pname = "cowsay"; version = "3.7.0"; description = "A program which generates ASCII pictures of a cow with a message"; }
    { pname = "ripgrep"; version = "14.1.1"; description = "Recursively searches directories for a regex pattern"; }
    { pname = "jq"; version = "1.7.1"; description = "Lightweight and flexible command-line JSON processor"; }
    { pname = "htop"; version = "3.3.0"; description = "Interactive process viewer"; }
    { pname = "git"; version = "2.47.1"; description = "Distributed version control system"; }
    { pname = "curl"; version = "8.11.1"; description = "Command line tool for transferring files with URL syntax"; }
    { pname = "vim"; version = "9.1.0"; description = "The most popular clone of the VI editor"; }
    { pname = "tmux"; version = "3.5a"; description = "Terminal multiplexer"; }
    { pname = "openssl"; version = "3.0.15"; description = "Cryptographic library that implements the SSL and TLS protocols"; }
    { pname = "postgresql"; version = "16.6"; description = "Powerful, open source object-relational database system"; }
    { pname = "nginx"; version = "1.26.2"; description = "Reverse proxy and lightweight webserver"; }
    { pname = "tree"; version = "2.2.1"; description = "Command to produce a depth indented directory listing"; }
    { pname = "fd"; version = "10.2.0"; description = "Simple, fast and user-friendly alternative to find"; }
    { pname = "bat"; version = "0.24.0"; description = "Cat clone with syntax highlighting and Git integration"; }
    { pname = "firefox"; version = "133.0"; description = "Web browser built from Firefox source tree"; }
  ];
in
builtins.listToAttrs (map (p: { name = p.pname; value = mkPackage p; }) list)
