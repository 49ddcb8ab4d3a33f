# NixOS module for the Flotilla server (and its worker): services.flotilla.
# The agent that runs on managed hosts has its own module, agent/module.nix
# (services.flotilla-agent). Both are exported by the repository's flake.nix.
#
# `package` has no default, on purpose. A Nix-built Flotilla would be a buildNpmPackage
# with an npmDepsHash, which only prefetch-npm-deps (from nixpkgs, with network) can
# compute; a made-up hash would only fail at build time on every machine. So the
# package is a built checkout that you provide (docs/install.md):
#   git clone … flotilla && cd flotilla && npm ci && npm run build && npm prune --omit=dev
# then `package = "/srv/flotilla";` (a string: used in place) or a path literal or
# store path (copied into the store, node_modules and all).
{ config, lib, pkgs, ... }:
let
  cfg = config.services.flotilla;
  inherit (lib) mkOption mkEnableOption mkIf types;

  user = "flotilla";

  # The same roles as `npm start`, `npm run start:server` and `npm run start:worker`
  # (package.json), run with the package's own tsx and without npm.
  tsx = script: "${cfg.nodejs}/bin/node ${cfg.package}/node_modules/tsx/dist/cli.mjs ${cfg.package}/${script}";

  environment = {
    NODE_ENV = "production";
    NEXT_TELEMETRY_DISABLED = "1";
    PORT = toString cfg.port;
    FLOTILLA_DATA_DIR = cfg.dataDir;
    # Builds go through the system's nix-daemon, which owns the build users and the
    # sandbox; Flotilla needs no privileges of its own (docs/decisions/0018-build-sandbox.md).
    NIX_REMOTE = "daemon";
  }
  // lib.optionalAttrs (cfg.listenAddress != null) { HOSTNAME = cfg.listenAddress; }
  // lib.optionalAttrs (cfg.url != null) { FLOTILLA_URL = cfg.url; }
  // lib.optionalAttrs cfg.database.createLocally {
    # Over the socket with peer authentication: no password anywhere. postgres.js and
    # pg (pg-boss) both take the socket directory from PGHOST when the URL names no host.
    DATABASE_URL = "postgresql:///${user}";
    PGHOST = "/run/postgresql";
    PGUSER = user;
  }
  // lib.optionalAttrs (cfg.database.url != null) { DATABASE_URL = cfg.database.url; }
  // cfg.environment;

  unit = description: script: {
    inherit description environment;
    wantedBy = [ "multi-user.target" ];
    wants = [ "network-online.target" ];
    # postgresql.target (NixOS 25.11 and later) is reached once ensureDatabases/ensureUsers ran.
    after = [ "network-online.target" "nix-daemon.socket" ]
      ++ lib.optionals cfg.database.createLocally [ "postgresql.service" "postgresql.target" ];
    requires = lib.optionals cfg.database.createLocally [ "postgresql.service" ];
    # nix for builds and syntax checks; util-linux (unshare, mount) and coreutils (chroot)
    # for the jail that operator code is evaluated in; git for git+https nixpkgs sources.
    path = [ config.nix.package pkgs.util-linux pkgs.coreutils pkgs.git ];
    serviceConfig = {
      ExecStart = tsx script;
      User = user;
      Group = user;
      # The stand-in nixpkgs is found relative to the working directory (lib/packages/source.ts).
      WorkingDirectory = "${cfg.package}";
      EnvironmentFile = lib.optional (cfg.environmentFile != null) cfg.environmentFile;
      Restart = "on-failure";
      RestartSec = 5;
      # Hardening that leaves the jail working: it needs user, mount, PID and network
      # namespaces and mounts a fresh /proc in them, which RestrictNamespaces,
      # PrivateUsers, ProtectProc and ProtectKernelTunables (an over-mounted /proc) forbid.
      ProtectSystem = "full";
      ProtectHome = true;
      PrivateTmp = true;
      UMask = "0027";
    };
  };
in
{
  options.services.flotilla = {
    enable = mkEnableOption "Flotilla, the fleet manager for NixOS (server and build worker)";

    package = mkOption {
      type = types.path;
      example = lib.literalExpression "/srv/flotilla  # after npm ci && npm run build && npm prune --omit=dev";
      description = ''
        A built Flotilla checkout: its node_modules, the web app built by `npm run build`
        (.next) and the sources. Nix cannot build it here without an npm dependency hash;
        see the comment at the top of this module and docs/install.md.
      '';
    };

    nodejs = mkOption {
      type = types.package;
      default = pkgs.nodejs_20;
      defaultText = lib.literalExpression "pkgs.nodejs_20";
      description = "Node.js (20.9 or later) to run Flotilla with.";
    };

    dataDir = mkOption {
      type = types.str;
      default = "/var/lib/flotilla";
      description = "FLOTILLA_DATA_DIR: generated secrets, the binary cache (unless in S3) and build directories.";
    };

    port = mkOption {
      type = types.port;
      default = 3000;
      description = "HTTP port (PORT).";
    };

    listenAddress = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "127.0.0.1";
      description = "Address to listen on (HOSTNAME); null for all interfaces. Behind a reverse proxy on this host, 127.0.0.1.";
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Open `port` in the firewall (agents and people reach the server there unless a reverse proxy does).";
    };

    url = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "https://flotilla.example.com";
      description = "FLOTILLA_URL, the public base URL; null for http://localhost:<port>.";
    };

    database = {
      createLocally = mkOption {
        type = types.bool;
        default = true;
        description = ''
          Create database and role `flotilla` (one name: ensureDBOwnership wants them equal)
          in this host's PostgreSQL (services.postgresql)
          and connect over its socket with peer authentication. Set to false to use another
          server: DATABASE_URL from `database.url` or, when it holds a password, from `environmentFile`.
        '';
      };

      url = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "postgres://flotilla@db.internal:5432/flotilla?sslmode=require";
        description = ''
          DATABASE_URL of an external PostgreSQL, without a password: this ends up in the
          world-readable Nix store. A URL with a password belongs in `environmentFile`.
        '';
      };
    };

    environmentFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/run/secrets/flotilla.env";
      description = ''
        systemd EnvironmentFile with the secrets: AUTH_SECRET (32+ characters, required when
        the worker runs as its own service), and as needed FLOTILLA_OIDC_CLIENT_SECRET,
        FLOTILLA_SMTP_URL, FLOTILLA_CACHE_S3_SECRET_ACCESS_KEY, DATABASE_URL with a password.
        Keep it out of the Nix store (agenix, sops-nix, or a file you place yourself).
      '';
    };

    environment = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = { FLOTILLA_NIXPKGS = "github:NixOS/nixpkgs/<commit>"; FLOTILLA_TRUSTED_PROXIES = "127.0.0.1"; };
      description = "More of Flotilla's settings (README, Configuration), without secrets: these are world-readable.";
    };

    worker = mkOption {
      type = types.enum [ "in-process" "separate" "none" ];
      default = "in-process";
      description = ''
        Where builds, rollouts and the other jobs run: `in-process` in the server's process
        (`npm start`, service flotilla); `separate` in service flotilla-worker beside a
        server-only flotilla; `none` for a server only, with workers on other machines.
      '';
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = cfg.database.createLocally || cfg.database.url != null || cfg.environmentFile != null;
        message = "services.flotilla: without database.createLocally, set database.url or put DATABASE_URL in environmentFile (the embedded PostgreSQL of `npm start` does not run on NixOS).";
      }
      {
        assertion = !(cfg.database.createLocally && cfg.database.url != null);
        message = "services.flotilla: database.url is for an external server; set database.createLocally = false to use it.";
      }
      {
        # Two processes that each generate a secret into the data directory would race.
        assertion = cfg.worker != "separate" || cfg.environmentFile != null;
        message = "services.flotilla: worker = \"separate\" needs environmentFile with AUTH_SECRET, shared by the server and the worker.";
      }
      {
        assertion = config.nix.enable && config.nix.settings.sandbox != false;
        message = "services.flotilla: builds run operator code and need the nix-daemon with nix.settings.sandbox enabled.";
      }
      {
        # Flotilla is an ordinary (untrusted) daemon user: a trusted one could turn the sandbox off.
        assertion = lib.any (u: lib.elem u config.nix.settings.allowed-users) [ "*" user "@${user}" ];
        message = "services.flotilla: nix.settings.allowed-users must include \"${user}\" for builds to reach the nix-daemon.";
      }
      {
        assertion = config.security.allowUserNamespaces;
        message = "services.flotilla: the evaluation jail needs user namespaces (security.allowUserNamespaces).";
      }
    ];

    users.users.${user} = {
      isSystemUser = true;
      group = user;
      home = cfg.dataDir;
      description = "Flotilla";
    };
    users.groups.${user} = { };

    systemd.tmpfiles.rules = [ "d ${cfg.dataDir} 0750 ${user} ${user} - -" ];

    services.postgresql = mkIf cfg.database.createLocally {
      enable = true;
      ensureDatabases = [ user ];
      ensureUsers = [{ name = user; ensureDBOwnership = true; }];
    };

    networking.firewall.allowedTCPPorts = lib.optional cfg.openFirewall cfg.port;

    systemd.services.flotilla =
      if cfg.worker == "in-process" then unit "Flotilla server and worker" "scripts/start.ts"
      else unit "Flotilla server" "server.ts";

    systemd.services.flotilla-worker = mkIf (cfg.worker == "separate") (unit "Flotilla worker" "worker.ts");
  };
}
