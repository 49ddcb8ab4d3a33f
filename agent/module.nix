# NixOS module for the Flotilla agent. Import it, point it at your server, and
# enrol once with `flotilla-agent enroll --server … --token …` (or provide the
# credential file yourself, e.g. from agenix or sops-nix).
{ config, lib, pkgs, ... }:
let
  cfg = config.services.flotilla-agent;
in
{
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
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [
      (pkgs.writeShellScriptBin "flotilla-agent" ''exec ${cfg.nodejs}/bin/node ${cfg.package} "$@"'')
    ];

    systemd.services.flotilla-agent = {
      description = "Flotilla agent";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      path = [ config.nix.package pkgs.util-linux pkgs.coreutils config.systemd.package ];
      # The agent runs switch-to-configuration itself: a switch must not restart it mid-activation.
      restartIfChanged = false;
      stopIfChanged = false;
      serviceConfig = {
        ExecStart = "${cfg.nodejs}/bin/node ${cfg.package} run --server ${lib.escapeShellArg cfg.server} --credential-file ${cfg.credentialFile} --state-dir ${cfg.stateDir}";
        Restart = "always";
        RestartSec = 5;
        StateDirectory = "flotilla-agent";
        StateDirectoryMode = "0700";
      };
    };
  };
}
