export function Logo({ className = 'h-7 w-7' }: { className?: string }) {
  // A small fleet of hulls under a hexagon: Nix's shape, a flotilla's content.
  return (
    <svg viewBox="0 0 32 32" className={className} aria-hidden="true">
      <path d="M16 2 28.1 9v14L16 30 3.9 23V9z" className="fill-brand-600" />
      <path d="M9 18h14l-2.5 4h-9z" fill="white" />
      <path d="M12 14h8l-1.5 2.5h-5z" fill="white" opacity=".8" />
      <path d="M15.25 8v5h1.5V8z" fill="white" />
    </svg>
  );
}
