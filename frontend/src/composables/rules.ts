/** Form rules every form shares (office and phone), with their Chinese messages. */

/** A phone number as the backend accepts it: digits, +, - and spaces; hotline callers may give a short number. */
export const PHONE_PATTERN = /^[0-9+\- ]{5,20}$/
export const SHORT_PHONE_PATTERN = /^[0-9+\- ]{3,20}$/
export const PHONE_MESSAGE = '电话只能包含数字、+、- 和空格'

export const required = (message = '此项必填') => ({ required: true, message, trigger: ['blur', 'change'] })

/** The phone rule of an Element Plus form. */
export const phone = (short = false) => ({
  pattern: short ? SHORT_PHONE_PATTERN : PHONE_PATTERN,
  message: PHONE_MESSAGE,
  trigger: 'blur',
})

/** The same rule for a Vant form on the phone pages (an empty number is allowed). */
export const vantPhone = () => ({ validator: (v: string) => !v || PHONE_PATTERN.test(v), message: PHONE_MESSAGE })
