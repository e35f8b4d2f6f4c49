import 'fake-indexeddb/auto'
import { beforeEach, describe, expect, it } from 'vitest'
import { createOutbox, idb, type OutboxItem, type Sender } from '@/api/outbox'
import { ApiError } from '@/api/errors'

/** A pretend server that honours Idempotency-Key like the real one: the same key never makes a second record. */
function fakeServer() {
  const records = new Map<string, Record<string, unknown>>()
  let online = true
  const sender: Sender = async (item: OutboxItem, ctx) => {
    if (!online) throw ApiError.network()
    if (!records.has(item.key)) records.set(item.key, item.payload)
    await ctx.save({ id: item.key })
  }
  return { records, sender, setOnline: (v: boolean) => (online = v), isOnline: () => online }
}

beforeEach(async () => {
  for (const item of await idb.all()) await idb.delete(item.key)
})

describe('outbox', () => {
  it('sends at once when there is signal and keeps nothing', async () => {
    const srv = fakeServer()
    const box = createOutbox({ senders: { activity: srv.sender }, isOnline: srv.isOnline })
    expect(await box.submit('activity', '活动:三八宣传', { title: '三八宣传' })).toEqual({ sent: true })
    expect(srv.records.size).toBe(1)
    expect(box.state.items).toHaveLength(0)
  })

  it('keeps a form filled with no signal and sends it once when the signal returns', async () => {
    const srv = fakeServer()
    srv.setOnline(false)
    const box = createOutbox({ senders: { activity: srv.sender }, isOnline: srv.isOnline })
    const result = await box.submit('activity', '活动:家教讲座', { title: '家教讲座' })
    expect(result.sent).toBe(false)
    expect(box.state.items.map((i) => i.label)).toEqual(['活动:家教讲座'])
    // Still stored after a "reload": a new outbox over the same IndexedDB sees it.
    const again = createOutbox({ senders: { activity: srv.sender }, isOnline: srv.isOnline })
    await again.refresh()
    expect(again.state.items).toHaveLength(1)

    srv.setOnline(true)
    await Promise.all([again.flush(), again.flush(), box.flush()])
    expect(srv.records.size).toBe(1)
    await box.refresh()
    expect(box.state.items).toHaveLength(0)
  })

  it('keeps waiting when the send fails for lack of signal midway', async () => {
    const srv = fakeServer()
    const flaky: Sender = async (item, ctx) => {
      await ctx.save({ step: 'created' })
      throw ApiError.network()
    }
    const box = createOutbox({ senders: { activity: flaky }, isOnline: srv.isOnline })
    const r = await box.submit('activity', '活动', { title: 'x' })
    expect(r.sent).toBe(false)
    const [item] = await idb.all()
    expect(item.progress).toEqual({ step: 'created' })
    expect(item.failed).toBeFalsy()
    expect(item.attempts).toBe(1)
  })

  it('throws a refusal back to the form and drops the item', async () => {
    const refuse: Sender = async () => {
      throw new ApiError(422, { detail: '请检查:head_count', errors: [{ field: 'head_count', message: '应不小于 1' }] })
    }
    const box = createOutbox({ senders: { activity: refuse }, isOnline: () => true })
    const err = await box.submit('activity', '活动', { head_count: 0 }).catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.fields.head_count).toBe('应不小于 1')
    expect(await idb.all()).toHaveLength(0)
  })

  it('marks a queued item refused later as failed and keeps it for the rep', async () => {
    let online = false
    const refuse: Sender = async () => {
      if (!online) throw ApiError.network()
      throw new ApiError(422, { detail: '活动日期不能晚于今天' })
    }
    const box = createOutbox({ senders: { activity: refuse }, isOnline: () => online })
    await box.submit('activity', '活动', {})
    online = true
    await box.flush()
    expect(box.state.items).toHaveLength(1)
    expect(box.state.items[0].failed).toBe(true)
    expect(box.state.items[0].lastError).toBe('活动日期不能晚于今天')
  })

  it("keeps one rep's forms for her: another login on the same phone neither sees nor sends them", async () => {
    const srv = fakeServer()
    srv.setOnline(false)
    let who = 'village.rep'
    const box = createOutbox({ senders: { activity: srv.sender }, isOnline: srv.isOnline, owner: () => who })
    await box.submit('activity', '活动:她的', { title: '她的' })
    who = 'village2.rep'
    srv.setOnline(true)
    await box.flush()
    expect(srv.records.size).toBe(0)
    expect(box.state.items).toHaveLength(0)
    who = 'village.rep'
    await box.flush()
    expect(srv.records.size).toBe(1)
  })
})
