using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Reference.InventoryApi.Model;
using Reference.InventoryApi.Shop;

namespace Reference.InventoryApi.Apis;

/// <summary>A shopper's cart token and the stock held for its checkout.</summary>
public static class CartApi
{
    public const int MaxLines = 20;

    public static IEndpointRouteBuilder MapCartApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/inventory").WithTags("Cart");
        api.MapPost("/carts", CreateCart)
            .WithSummary("Issues a cart token; send it in X-Cart-Token with every cart and order request.");
        api.MapGet("/cart/hold", GetHold).WithSummary("The stock held for this cart's checkout.");
        api.MapPut("/cart/hold", HoldStock)
            .WithSummary("Holds stock for checkout, replacing this cart's previous hold; capped per cart and per client address.");
        api.MapDelete("/cart/hold", ReleaseHold).WithSummary("Gives this cart's hold back.");
        return app;
    }

    public static Created<CartTokenResponse> CreateCart(CartTokens tokens) =>
        TypedResults.Created((string?)null, new CartTokenResponse(tokens.Issue()));

    public static async Task<Results<Ok<HoldResponse>, ProblemHttpResult>> GetHold(
        [FromHeader(Name = CartTokens.Header)] string? cartToken, CartTokens tokens, CartHolds holds, CancellationToken cancellationToken)
    {
        if (tokens.CartIdOf(cartToken) is not { } cartId)
        {
            return NoCart(cartToken);
        }

        return await holds.FindPendingAsync(cartId, cancellationToken) is { } hold
            ? TypedResults.Ok(HoldResponse.From(hold))
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No hold", detail: "This cart holds no stock.");
    }

    public static async Task<Results<Ok<HoldResponse>, ValidationProblem, ProblemHttpResult>> HoldStock(
        [FromHeader(Name = CartTokens.Header)] string? cartToken, HoldRequest request,
        CartTokens tokens, CartHolds holds, HttpContext http, CancellationToken cancellationToken)
    {
        if (tokens.CartIdOf(cartToken) is not { } cartId)
        {
            return NoCart(cartToken);
        }

        var errors = request.Validate();
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var outcome = await holds.HoldAsync(cartId, ClientAddress.Of(http),
            request.Lines!.Select(l => (l!.ProductId!.Value, l.Quantity!.Value)), cancellationToken);
        if (outcome.Refusal is { } refusal)
        {
            if (refusal.RetryAfter is { } wait)
            {
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString();
            }

            var problem = new ProblemDetails { Status = refusal.StatusCode, Title = refusal.Title, Detail = refusal.Detail };
            problem.Extensions["reason"] = refusal.Reason;
            return TypedResults.Problem(problem);
        }

        return outcome.Reservation is { } reservation
            ? TypedResults.Ok(HoldResponse.From(reservation))
            : ReservationsApi.NotEnoughStock(outcome.ShortLines);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> ReleaseHold(
        [FromHeader(Name = CartTokens.Header)] string? cartToken, CartTokens tokens, CartHolds holds, CancellationToken cancellationToken)
    {
        if (tokens.CartIdOf(cartToken) is not { } cartId)
        {
            return NoCart(cartToken);
        }

        await holds.ReleaseAsync(cartId, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>401 for a missing or made-up cart token: the shopper's page gets a new one and tries again.</summary>
    internal static ProblemHttpResult NoCart(string? cartToken) =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized,
            title: string.IsNullOrEmpty(cartToken) ? "Cart token required" : "Cart token not valid",
            detail: $"Send the token from POST /api/inventory/carts in the {CartTokens.Header} header.");
}

public sealed record CartTokenResponse(string CartToken);

public sealed record HoldRequest(IReadOnlyList<ReservationLineRequest?>? Lines)
{
    public Dictionary<string, string[]> Validate() => ReservationLineRequest.Validate(Lines, CartApi.MaxLines);
}

public sealed record HoldResponse(Guid Id, IReadOnlyList<ReservationLineResponse> Lines, DateTimeOffset ExpiresAt)
{
    public static HoldResponse From(Reservation r) => new(
        r.Id, r.Lines.OrderBy(l => l.ProductId).Select(l => new ReservationLineResponse(l.ProductId, l.Quantity)).ToList(), r.ExpiresAt);
}
