/** Dates and times as a Chinese office reads them, in China time. */
const TZ = 'Asia/Shanghai'

export function fmtDateTime(value: string | null | undefined): string {
  if (!value) return ''
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return value
  return d.toLocaleString('zh-CN', {
    timeZone: TZ,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  })
}

export function fmtDate(value: string | null | undefined): string {
  if (!value) return ''
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return value
  return d.toLocaleDateString('zh-CN', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' })
}

/** Today in China as YYYY-MM-DD. */
export function todayChina(now = new Date()): string {
  return now.toLocaleDateString('sv-SE', { timeZone: TZ })
}

/** "还剩 3 小时" / "已超时 2 天" for a deadline. */
export function timeLeft(due: string | null | undefined, now = Date.now()): { text: string; overdue: boolean } {
  if (!due) return { text: '', overdue: false }
  const ms = new Date(due).getTime() - now
  const abs = Math.abs(ms)
  const hours = Math.floor(abs / 3600000)
  const text =
    hours >= 48
      ? `${Math.floor(hours / 24)} 天`
      : hours >= 1
        ? `${hours} 小时`
        : `${Math.max(1, Math.floor(abs / 60000))} 分钟`
  return ms >= 0 ? { text: `还剩 ${text}`, overdue: false } : { text: `已超时 ${text}`, overdue: true }
}

/** GB 11643 check digit, so a mistyped number is caught on the phone before it is sent. */
export function validIdNumber(value: string): boolean {
  const v = value.trim().toUpperCase()
  if (!/^\d{17}[\dX]$/.test(v)) return false
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  const sum = weights.reduce((s, w, i) => s + w * Number(v[i]), 0)
  return '10X98765432'[sum % 11] === v[17]
}
