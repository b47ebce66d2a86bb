// A frontend calling two Bigtech routes through the Appwrite Web SDK, typed from the OpenAPI document.
// Types:  npx openapi-typescript docs/openapi/bigtech.json -o src/bigtech.ts --default-non-nullable false   (docs/openapi.md)
// tests/openapi/test_typescript.py type-checks this file (tsc --strict) against freshly generated types.
import { Account, Client, ExecutionMethod, Functions } from "appwrite";
import type { components, paths } from "./bigtech";

type ConsultaBody = components["schemas"]["consultas.ConsultaBody"];
type Consulta = paths["/consultas"]["post"]["responses"][201]["content"]["application/json"];
type OrderBody = components["schemas"]["billing.OrderBody"];
type Order = paths["/billing/orders"]["post"]["responses"][201]["content"]["application/json"];
type ApiError = components["schemas"]["Error"];

const client = new Client().setEndpoint("http://127.0.0.1:8080/v1").setProject("bigtech");
const functions = new Functions(client);
export const account = new Account(client); // account.createEmailPasswordSession({ email, password }) first

export class BigtechError extends Error {
    constructor(readonly status: number, readonly error: ApiError) {
        super(`${error.code}: ${error.message}`);
    }
}

/** One operation, called as its `x-appwrite-execution` says: function id, method, path, headers, JSON body. */
async function execute<T>(functionId: string, method: ExecutionMethod, path: string, body?: unknown,
                          headers: Record<string, string> = {}): Promise<T> {
    const execution = await functions.createExecution({
        functionId, method, xpath: path, async: false,
        body: body === undefined ? "" : JSON.stringify(body),
        headers: { "content-type": "application/json", ...headers },
    });
    const answer = execution.responseBody ? JSON.parse(execution.responseBody) : null;
    if (execution.responseStatusCode >= 400) {
        throw new BigtechError(execution.responseStatusCode, (answer as { error: ApiError }).error);
    }
    return answer as T;
}

/** POST /consultas (function `consultas`, path `/`): a cadastral look-up, charged once per key. */
export function runConsulta(body: ConsultaBody, idempotencyKey: string): Promise<Consulta> {
    return execute<Consulta>("consultas", ExecutionMethod.POST, "/", body, { "idempotency-key": idempotencyKey });
}

/** POST /billing/orders: buy a credit package by PIX; the answer carries the payment instructions. */
export function buyCredits(body: OrderBody): Promise<Order> {
    return execute<Order>("billing", ExecutionMethod.POST, "/orders", body,
                          { "idempotency-key": crypto.randomUUID() });
}

// await runConsulta({ category: "cadastral", document: "11144477735", purpose: "Análise de crédito",
//                     legal_basis: "protecao_credito" }, crypto.randomUUID());
// await buyCredits({ package_id: "starter", method: "pix" });
