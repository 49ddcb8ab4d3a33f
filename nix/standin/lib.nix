# The few library functions the stand-in's modules and merge need.
rec {
  # Like nixpkgs' recursiveUpdate, but b wins wherever it has a value.
  recursiveUpdateUntilSet = a: b:
    builtins.foldl' (acc: name:
      acc // {
        ${name} =
          if acc ? ${name} && builtins.isAttrs acc.${name} && builtins.isAttrs b.${name} && !(b.${name} ? type)
          then recursiveUpdateUntilSet acc.${name} b.${name}
          else b.${name};
      }) a (builtins.attrNames b);
  mkDefault = x: x;
  mkForce = x: x;
  optional = cond: x: if cond then [ x ] else [ ];
  optionals = cond: xs: if cond then xs else [ ];
}
