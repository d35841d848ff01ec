import { describe, it, expect } from 'vitest'
import * as publicApi from '../../src/index.ts'
import { NoAddressesError, NoResponseError, RendezvousError, ResponseStatusCode, statusToError } from '../../src/errors.ts'
import { ERROR_NAMES, ERROR_STATUSES, STATUS_CODES } from '../fixtures/statuses.ts'

describe('errors', () => {
  it('given the spec, then every status has the number it gives it', () => {
    expect(ResponseStatusCode).toEqual({ OK: 0, ...STATUS_CODES })
  })

  it.each(ERROR_STATUSES)('given %s, then it maps to its named class with status, code and statusText', (status) => {
    const err = statusToError(status, 'the reason')
    expect(err).toBeInstanceOf(RendezvousError)
    expect(err).toBeInstanceOf(Error)
    expect(err).toMatchObject({ name: ERROR_NAMES[status], status, code: STATUS_CODES[status], statusText: 'the reason' })
    expect(err.message).toBe(`${status}: the reason`)
    // the class is public, so callers can construct and compare it too
    const Class = (publicApi as Record<string, unknown>)[ERROR_NAMES[status]] as new (text?: string) => RendezvousError
    expect(new Class()).toMatchObject({ name: ERROR_NAMES[status], status, statusText: undefined, message: status })
  })

  it('given errors of the client itself, then they have names of their own', () => {
    expect(new NoResponseError()).toHaveProperty('name', 'NoResponseError')
    expect(new NoAddressesError()).toHaveProperty('name', 'NoAddressesError')
  })
})
