{
  description = "Flotilla's stand-in for nixpkgs: lib.nixosSystem and a few tiny packages. Test and demo data for real Nix, not nixpkgs.";

  outputs = { self }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAll = f: builtins.listToAttrs (map (system: { name = system; value = f system; }) systems);
      packagesFor = system: import ./packages.nix { inherit system; };
    in
    {
      lib = (import ./lib.nix) // {
        nixosSystem = args: import ./nixos-system.nix args;
        version = "24.11.standin";
      };
      legacyPackages = forAll packagesFor;
      packageIndex = map
        (p: { attr = p.pname; inherit (p) pname version; description = p.meta.description; })
        (builtins.attrValues (packagesFor "x86_64-linux"));
    };
}
