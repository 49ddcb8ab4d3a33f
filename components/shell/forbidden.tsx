import { Card, EmptyState } from '@/components/ui/card';

export function Forbidden({ what }: { what: string }) {
  return (
    <Card>
      <EmptyState title="You don't have access to this page">
        {what} is available to other roles. Ask an admin of your organisation if you need it.
      </EmptyState>
    </Card>
  );
}
