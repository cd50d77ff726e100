// Sends the three calls of the Segment docs page for the Airship destination (identify, track,
// group) through the official @segment/analytics-node library to the service under test.
//
// Usage: SEGMENT_HOST=http://127.0.0.1:PORT SEGMENT_WRITE_KEY=KEY node send-docs-examples.mjs
// Prints each HTTP response status the library received and exits non-zero on any delivery error.
import { Analytics } from '@segment/analytics-node';

const host = process.env.SEGMENT_HOST;
const writeKey = process.env.SEGMENT_WRITE_KEY;
const timestamp = process.env.EVENT_TIMESTAMP ?? new Date().toISOString();
if (!host || !writeKey) {
  console.error('SEGMENT_HOST and SEGMENT_WRITE_KEY must be set');
  process.exit(2);
}

const analytics = new Analytics({ writeKey, host, flushAt: 3, maxRetries: 0 });
let failed = false;
analytics.on('error', (err) => {
  failed = true;
  console.error('delivery failed:', err?.reason?.message ?? err?.code ?? err);
});
analytics.on('http_request', (request) => console.log(`request ${request.method} ${request.url}`));

analytics.identify({
  userId: 'jill',
  messageId: 'node-identify-1',
  timestamp,
  traits: { new_customer: true, order_completed_last_60days: false },
});
analytics.track({
  userId: 'jill',
  messageId: 'node-track-1',
  timestamp,
  event: 'Product Clicked',
  properties: { name: 'Air Jordans', brand: 'Nike ', price: 200, quantity: 1, variant: 'Red' },
});
analytics.group({
  userId: 'jill',
  messageId: 'node-group-1',
  timestamp,
  groupId: '1234',
  traits: { name: 'Initech', industry: 'Technology', employees: 329, plan: 'enterprise', totalBilled: 830 },
});

await analytics.closeAndFlush({ timeout: 10000 });
process.exit(failed ? 1 : 0);
