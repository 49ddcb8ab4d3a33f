# A stand-in for nixpkgs' lib.nixosSystem: evaluates modules (attribute sets or
# functions of { config, pkgs, lib, ... }, with imports), merges them the way the
# module system does for the options these tests use, and builds a "toplevel" with
# bin/switch-to-configuration, nixos-version and sw/bin. Test data for real Nix.
{ system ? "x86_64-linux", modules, specialArgs ? { } }:
let
  pkgs = import ./packages.nix { inherit system; };
  lib = import ./lib.nix;

  defaults = {
    networking.hostName = "nixos";
    system.stateVersion = "24.11";
    environment.systemPackages = [ ];
    flotilla.test.failActivation = false;
    flotilla.test.activationDelaySeconds = 0;
    # Units dry-activate says it would restart.
    flotilla.test.restartUnits = [ ];
    # Pre-switch checks shipped in the closure (name → shell script), as agent/module.nix offers.
    flotilla.checks = { };
    # Health checks shipped in the closure (name → shell script), as agent/module.nix offers: run after the switch.
    flotilla.healthChecks = { };
    # State units (name → { kind, path | database, snapshot, keep, restoreOnRollback, … }), as agent/module.nix offers.
    flotilla.state = { };
    # Shell run by switch-to-configuration switch|boot before it fails or succeeds (a "migration").
    flotilla.test.activationScript = "";
    # systemd unit files (name → text) under etc/systemd/system: what the service-change snapshot policy compares.
    flotilla.test.serviceUnits = { };
  };

  # Modules may import others; flatten them (paths are imported here).
  flatten = ms: builtins.concatLists (map (m:
    let
      value = if builtins.isPath m || builtins.isString m then import m else m;
      body = if builtins.isFunction value then value (specialArgs // { inherit config pkgs lib; }) else value;
    in [ (removeAttrs body [ "imports" ]) ] ++ flatten (body.imports or [ ])
  ) ms);

  definitions = flatten modules;

  # Lists concatenate, attribute sets merge, equal values agree; anything else is a conflict.
  merge = path: a: b:
    if builtins.isList a && builtins.isList b then a ++ b
    else if builtins.isAttrs a && builtins.isAttrs b && !(a ? type && a.type == "derivation") then
      builtins.foldl' (acc: name:
        acc // {
          ${name} = if acc ? ${name} then merge (path ++ [ name ]) acc.${name} b.${name} else b.${name};
        }) a (builtins.attrNames b)
    else if a == b then a
    else throw "The option `${builtins.concatStringsSep "." path}' has conflicting definitions.";

  merged = builtins.foldl' (merge [ ]) { } definitions;

  # Defaults only fill what no module set.
  withDefaults = lib.recursiveUpdateUntilSet defaults merged;

  config = withDefaults // {
    # Keep other system.build attributes a module may add next to the toplevel.
    system = (withDefaults.system or { }) // { build = (withDefaults.system.build or { }) // { inherit toplevel; }; };
  };

  packages = config.environment.systemPackages;
  version = "24.11.standin";

  toplevel = builtins.derivation {
    name = "nixos-system-${config.networking.hostName}-${version}";
    inherit system version;
    builder = "/bin/sh";
    PATH = "/bin";
    hostName = config.networking.hostName;
    failActivation = if config.flotilla.test.failActivation then "1" else "";
    activationDelay = toString config.flotilla.test.activationDelaySeconds;
    packagePaths = map (p: "${p}") packages;
    packageLines = builtins.concatStringsSep "\n" (map (p: "${p.pname or p.name} ${p.version or ""}") packages);
    restartUnits = builtins.concatStringsSep " " config.flotilla.test.restartUnits;
    stateJson = builtins.toJSON { units = map (name: config.flotilla.state.${name} // { inherit name; }) (builtins.attrNames config.flotilla.state); };
    activationScript = if config.flotilla.test.activationScript == "" then "" else builtins.toFile "flotilla-activation-script" config.flotilla.test.activationScript;
    serviceFiles = map (name: "${name}=${builtins.toFile "unit-${name}" config.flotilla.test.serviceUnits.${name}}") (builtins.attrNames config.flotilla.test.serviceUnits);
    checkFiles = map (name: "${name}=${builtins.toFile "flotilla-check-${name}" config.flotilla.checks.${name}}") (builtins.attrNames config.flotilla.checks);
    healthFiles = map (name: "${name}=${builtins.toFile "flotilla-health-${name}" config.flotilla.healthChecks.${name}}") (builtins.attrNames config.flotilla.healthChecks);
    args = [
      "-c"
      ''
        mkdir -p $out/bin $out/sw/bin $out/etc/flotilla
        echo "$version" > $out/nixos-version
        if [ -n "$packageLines" ]; then printf '%s\n' "$packageLines"; fi > $out/etc/flotilla/packages
        mkdir -p $out/flotilla
        printf '%s' "$stateJson" > $out/flotilla/state.json
        for pair in $serviceFiles; do
          mkdir -p $out/etc/systemd/system
          ln -s "''${pair#*=}" "$out/etc/systemd/system/''${pair%%=*}"
        done
        for pair in $checkFiles; do
          mkdir -p $out/flotilla/checks
          name="''${pair%%=*}"; file="''${pair#*=}"
          { echo '#!/bin/sh'; cat "$file"; } > "$out/flotilla/checks/$name"
          chmod +x "$out/flotilla/checks/$name"
        done
        for pair in $healthFiles; do
          mkdir -p $out/flotilla/health-checks
          name="''${pair%%=*}"; file="''${pair#*=}"
          { echo '#!/bin/sh'; cat "$file"; } > "$out/flotilla/health-checks/$name"
          chmod +x "$out/flotilla/health-checks/$name"
        done
        for p in $packagePaths; do
          for b in $p/bin/*; do [ -e "$b" ] && ln -s "$b" $out/sw/bin/; done
        done
        cat > $out/bin/switch-to-configuration <<SCRIPT
        #!/bin/sh
        # Stand-in activation: records the call; fails when the config asks it to.
        action="\$1"
        case "\$action" in switch|boot|test|dry-activate) ;; *) echo "usage: switch-to-configuration switch|boot|test|dry-activate" >&2; exit 1 ;; esac
        # Records real activations; dry-activate changes nothing, so it is not one.
        if [ -n "\$FLOTILLA_ACTIVATION_LOG" ] && [ "\$action" != dry-activate ]; then echo "\$action $out" >> "\$FLOTILLA_ACTIVATION_LOG"; fi
        if [ "\$action" = dry-activate ] && [ -n "$restartUnits" ]; then echo "would restart the following units: $restartUnits"; fi
        if [ -n "$activationScript" ] && [ "\$action" != dry-activate ] && [ "\$action" != test ]; then /bin/sh "$activationScript" || exit 1; fi
        if [ "\$action" != dry-activate ] && [ "$activationDelay" != 0 ]; then sleep "$activationDelay"; fi
        if [ "\$action" != dry-activate ] && [ -n "$failActivation" ]; then echo "activation of $hostName failed (flotilla.test.failActivation)" >&2; exit 1; fi
        exit 0
        SCRIPT
        chmod +x $out/bin/switch-to-configuration
      ''
    ];
  };
in
{ inherit config pkgs; }
