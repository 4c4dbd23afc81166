/** The JSON body of every error response, referenced by every route's response schemas. */
import Type from 'typebox';

export const ErrorResponseSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'stable HUB_ERR_* code; see hub/docs/error-codes.md' }),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { description: 'error' },
);

/** Response schemas for the error statuses a route can return: `{ ...errorResponses(401, 404) }`. */
export function errorResponses(...statusCodes: number[]): Record<number, typeof ErrorResponseSchema> {
  return Object.fromEntries(statusCodes.map((code) => [code, ErrorResponseSchema]));
}
