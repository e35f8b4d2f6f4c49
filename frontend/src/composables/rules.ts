/** Form rules every office form shares, with their Chinese messages. */

/** A phone number as the backend accepts it: digits, +, - and spaces; hotline callers may give a short number. */
export const PHONE_PATTERN = /^[0-9+\- ]{5,20}$/
export const SHORT_PHONE_PATTERN = /^[0-9+\- ]{3,20}$/

export const required = (message = '此项必填') => ({ required: true, message, trigger: ['blur', 'change'] })

export const phone = (short = false) => ({
  pattern: short ? SHORT_PHONE_PATTERN : PHONE_PATTERN,
  message: '电话只能包含数字、+、- 和空格',
  trigger: 'blur',
})
