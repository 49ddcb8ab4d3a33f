# NixOS module for the Flotilla agent. Import it, point it at your server, and
# enrol once with `flotilla-agent enroll --server … --token …` (or provide the
# credential file yourself, e.g. from agenix or sops-nix).
{ config, lib, pkgs, ... }:
let
  cfg = config.services.flotilla-agent;
  inherit (lib) mkOption types;

  nullable = type: description: mkOption { type = types.nullOr type; default = null; inherit description; };

  stateUnit = types.submodule {
    options = {
      kind = mkOption { type = types.enum [ "directory" "postgresql" "mysql" ]; description = "What holds the state."; };
      path = nullable types.str "For a directory: its absolute path.";
      database = nullable types.str "For a database: its name.";
      host = nullable types.str "Database server host or socket directory (PostgreSQL: /run/postgresql by default).";
      port = nullable types.port "Database server port.";
      user = nullable types.str "Database user the dump and restore connect as.";
      runAs = nullable types.str "System user the database tools run as (peer authentication; postgres by default for PostgreSQL).";
      bin = nullable types.str "Directory of pg_dump/pg_restore or mysqldump/mysql (the service's package by default).";
      dataDir = nullable types.str "PostgreSQL data directory, compared with the server version before a switch.";
      serverVersion = nullable types.str "Version of the PostgreSQL server this system runs.";
      passFile = nullable types.str "PostgreSQL password file (PGPASSFILE).";
      defaultsFile = nullable types.str "MySQL option file with the password ([client] section).";
      service = nullable types.str "systemd service using the data (for a database: the application, not the server): stopped around a restore; the service-change policy compares its unit.";
      snapshot = mkOption {
        type = types.enum [ "every-switch" "service-change" "never" ];
        default = "every-switch";
        description = "When the agent snapshots this unit: before every switch, before switches that change its service, or never.";
      };
      keep = mkOption { type = types.ints.between 1 30; default = 5; description = "Snapshots of this unit kept on the host."; };
      restoreOnRollback = mkOption { type = types.bool; default = false; description = "Restore the snapshot taken before a switch when that switch is rolled back."; };
    };
  };

  # Defaults from the services the units belong to, so `{ kind = "postgresql"; database = "app"; }` is enough.
  serviceDefaults = u:
    if u.kind == "postgresql" then {
      bin = "${config.services.postgresql.package}/bin";
      host = "/run/postgresql";
      runAs = "postgres";
      dataDir = config.services.postgresql.dataDir;
      serverVersion = config.services.postgresql.package.version;
    } else if u.kind == "mysql" && config.services.mysql.enable then {
      bin = "${config.services.mysql.package}/bin";
      runAs = config.services.mysql.user;
    } else { };

  stateFile = pkgs.writeText "flotilla-state.json" (builtins.toJSON {
    units = lib.mapAttrsToList (name: u: serviceDefaults u // lib.filterAttrs (_: v: v != null) u // { inherit name; }) config.flotilla.state;
  });

  # The host's own health checks: the server never sends commands to run (docs/decisions/0017).
  localHealthChecksFile = pkgs.writeText "flotilla-agent-health-checks.json" (builtins.toJSON {
    checks = lib.mapAttrsToList (name: c: { inherit name; inherit (c) command timeoutSeconds; }) cfg.healthChecks;
  });
in
{
  options.flotilla.state = mkOption {
    type = types.attrsOf stateUnit;
    default = { };
    example = lib.literalExpression ''{ app-db = { kind = "postgresql"; database = "app"; restoreOnRollback = true; }; uploads = { kind = "directory"; path = "/var/lib/app/uploads"; }; }'';
    description = "State units: data the agent snapshots before a switch (and restores on rollback or on request). Shipped as $toplevel/flotilla/state.json.";
  };

  options.flotilla.checks = mkOption {
    type = types.attrsOf types.lines;
    default = { };
    description = ''
      Pre-switch checks (name → shell script), shipped as $toplevel/flotilla/checks/<name>. Run with no arguments
      before the switch, a check prints JSON items {level: error|warning|info, message, resolutions: [{id, label}]};
      run as `<check> resolve <id>` it carries out the resolution a person chose.
    '';
  };

  options.flotilla.healthChecks = mkOption {
    type = types.attrsOf types.lines;
    default = { };
    description = ''
      Health checks (name → shell script), shipped as $toplevel/flotilla/health-checks/<name>. The agent runs them
      after switching to this system; a non-zero exit rolls the switch back. They come with the closure, which the
      fleet key signs: the server itself can never tell the agent what to run.
    '';
  };

  options.services.flotilla-agent = {
    enable = lib.mkEnableOption "the Flotilla agent, which applies the configurations Flotilla deploys to this host";

    package = lib.mkOption {
      type = lib.types.path;
      description = "The bundled agent (dist/flotilla-agent.mjs from `npm run build:agent`).";
    };

    nodejs = lib.mkOption {
      type = lib.types.package;
      default = pkgs.nodejs_20;
      defaultText = lib.literalExpression "pkgs.nodejs_20";
      description = "Node.js to run the agent with.";
    };

    server = lib.mkOption {
      type = lib.types.str;
      example = "https://flotilla.example.com";
      description = "Base URL of the Flotilla server.";
    };

    credentialFile = lib.mkOption {
      type = lib.types.path;
      default = "/var/lib/flotilla-agent/credential";
      description = "File holding this host's credential (written by `flotilla-agent enroll`, mode 0600).";
    };

    stateDir = lib.mkOption {
      type = lib.types.path;
      default = "/var/lib/flotilla-agent";
      description = "Where the agent keeps its journal and lock.";
    };

    allowInsecure = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = ''
        Allow plain http/ws to a server that is not on loopback. The host credential (and at enrolment, the token)
        then crosses the network in the clear. Enrol with `flotilla-agent enroll --allow-insecure` too.
      '';
    };

    healthChecks = lib.mkOption {
      type = lib.types.attrsOf (lib.types.submodule {
        options = {
          command = lib.mkOption { type = lib.types.listOf lib.types.str; description = "argv, run as root after each switch; exit 0 means healthy."; };
          timeoutSeconds = lib.mkOption { type = lib.types.ints.between 1 600; default = 30; description = "Seconds before the check counts as failed."; };
        };
      });
      default = { };
      example = lib.literalExpression ''{ web = { command = [ "''${pkgs.curl}/bin/curl" "-fsS" "http://127.0.0.1/health" ]; }; }'';
      description = "Health checks this host runs after every switch, besides those the new system ships (flotilla.healthChecks).";
    };
  };

  config = lib.mkMerge [
  {
    system.extraSystemBuilderCmds = ''
      mkdir -p $out/flotilla/checks
      ln -s ${stateFile} $out/flotilla/state.json
      ${lib.concatStrings (lib.mapAttrsToList (name: script: "ln -s ${pkgs.writeShellScript "flotilla-check-${name}" script} $out/flotilla/checks/${lib.escapeShellArg name}\n") config.flotilla.checks)}
      mkdir -p $out/flotilla/health-checks
      ${lib.concatStrings (lib.mapAttrsToList (name: script: "ln -s ${pkgs.writeShellScript "flotilla-health-${name}" script} $out/flotilla/health-checks/${lib.escapeShellArg name}\n") config.flotilla.healthChecks)}
    '';
  }
  (lib.mkIf cfg.enable {
    environment.systemPackages = [
      (pkgs.writeShellScriptBin "flotilla-agent" ''exec ${cfg.nodejs}/bin/node ${cfg.package} "$@"'')
    ];

    systemd.services.flotilla-agent = {
      description = "Flotilla agent";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      # tar and zstd: directory snapshots.
      path = [ config.nix.package pkgs.util-linux pkgs.coreutils config.systemd.package pkgs.gnutar pkgs.zstd ];
      # The agent runs switch-to-configuration itself: a switch must not restart it mid-activation.
      restartIfChanged = false;
      stopIfChanged = false;
      serviceConfig = {
        ExecStart = "${cfg.nodejs}/bin/node ${cfg.package} run --server ${lib.escapeShellArg cfg.server} --credential-file ${cfg.credentialFile} --state-dir ${cfg.stateDir} --health-checks ${localHealthChecksFile}${lib.optionalString cfg.allowInsecure " --allow-insecure"}";
        Restart = "always";
        RestartSec = 5;
        StateDirectory = "flotilla-agent";
        StateDirectoryMode = "0700";
      };
    };
  })
  ];
}
