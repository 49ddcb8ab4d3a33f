{
  description = "Flotilla, a self-hosted fleet manager for NixOS: NixOS modules for the server and the host agent";

  # No inputs: the modules take nixpkgs from the system that imports them.
  outputs = { self }: {
    nixosModules = {
      # services.flotilla: the server and its build worker (docs/install.md).
      flotilla = ./nix/modules/flotilla.nix;
      # services.flotilla-agent, flotilla.state, flotilla.checks, flotilla.healthChecks: every managed host.
      flotilla-agent = ./agent/module.nix;
      default = self.nixosModules.flotilla;
    };
  };
}
