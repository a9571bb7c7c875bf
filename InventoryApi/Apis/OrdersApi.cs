using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Reference.InventoryApi.Infrastructure.EntityConfigurations;
using Reference.InventoryApi.Model;
using Reference.InventoryApi.Shop;

namespace Reference.InventoryApi.Apis;

/// <summary>Placing an order from the cart's hold, the shopper's own orders, and staff's order desk.</summary>
public static partial class OrdersApi
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const int MaxPageSize = 100;
    private const int OwnOrdersShown = 50;

    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/inventory/orders").WithTags("Orders");
        api.MapPost("/", PlaceOrder)
            .WithSummary("Commits this cart's hold as an order awaiting payment; the same Idempotency-Key gives the same order.");
        api.MapGet("/mine", GetMyOrders).WithSummary("The orders placed from this cart (this browser).");
        api.MapGet("/{id:guid}", GetOrder).WithSummary("One order, for the cart that placed it.");

        var staff = api.MapGroup("").RequireAdminKey();
        staff.MapGet("/", ListOrders).WithSummary("Every order, newest first, optionally of one status.");
        staff.MapPost("/{id:guid}/paid", MarkPaid).WithSummary("Records the payment; where a payment provider's callback would land.");
        staff.MapPost("/{id:guid}/cancel", CancelOrder).WithSummary("Cancels the order and puts its units back on-hand, once.");
        return app;
    }

    public static async Task<Results<Created<OrderResponse>, Ok<OrderResponse>, ValidationProblem, ProblemHttpResult>> PlaceOrder(
        [FromHeader(Name = CartTokens.Header)] string? cartToken,
        [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey,
        PlaceOrderRequest request, CartTokens tokens, ShopOrders orders, HttpContext http, CancellationToken cancellationToken)
    {
        if (tokens.CartIdOf(cartToken) is not { } cartId)
        {
            return CartApi.NoCart(cartToken);
        }

        var errors = request.Validate();
        if (string.IsNullOrWhiteSpace(idempotencyKey) || idempotencyKey.Length > OrderConfiguration.IdempotencyKeyLength)
        {
            errors[IdempotencyKeyHeader] = [$"Required: a value of up to {OrderConfiguration.IdempotencyKeyLength} characters, the same for every retry of one order."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var outcome = await orders.PlaceAsync(
            cartId, ClientAddress.Of(http), idempotencyKey!, request.Name!.Trim(), request.Email!.Trim(), cancellationToken);
        return outcome.Result switch
        {
            PlaceResult.Placed => TypedResults.Created($"/api/inventory/orders/{outcome.Order!.Id}", OrderResponse.From(outcome.Order)),
            PlaceResult.AlreadyPlaced => TypedResults.Ok(OrderResponse.From(outcome.Order!)),
            PlaceResult.HoldExpired => Conflict("hold-expired", "Hold expired",
                "The stock held for this checkout was given back; hold it again (PUT /api/inventory/cart/hold) and place the order."),
            PlaceResult.MixedCurrencies => Conflict("mixed-currencies", "Mixed currencies",
                "The lines are priced in different currencies; order them separately."),
            _ => Conflict("no-hold", "Nothing held",
                "This cart holds no stock to order; hold the cart's lines first (PUT /api/inventory/cart/hold)."),
        };
    }

    public static async Task<Results<Ok<List<OrderResponse>>, ProblemHttpResult>> GetMyOrders(
        [FromHeader(Name = CartTokens.Header)] string? cartToken, CartTokens tokens, ShopOrders orders, CancellationToken cancellationToken)
    {
        if (tokens.CartIdOf(cartToken) is not { } cartId)
        {
            return CartApi.NoCart(cartToken);
        }

        var mine = await orders.ForCartAsync(cartId, OwnOrdersShown, cancellationToken);
        return TypedResults.Ok(mine.Select(OrderResponse.From).ToList());
    }

    public static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> GetOrder(
        Guid id, [FromHeader(Name = CartTokens.Header)] string? cartToken, CartTokens tokens, ShopOrders orders, CancellationToken cancellationToken)
    {
        var order = await orders.FindAsync(id, cancellationToken);
        // Another cart's order is as absent as one that does not exist: an id must not reveal a name and address.
        return order is not null && tokens.CartIdOf(cartToken) == order.CartId
            ? TypedResults.Ok(OrderResponse.From(order))
            : NotFound(id);
    }

    public static async Task<Results<Ok<OrderPage>, ValidationProblem>> ListOrders(
        OrderStatus? status, int? page, int? pageSize, ShopOrders orders, CancellationToken cancellationToken)
    {
        if (page is < 1 or > 100_000 || pageSize is < 1 or > MaxPageSize)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["page"] = ["page: 1 to 100000; pageSize: 1 to " + MaxPageSize + "."],
            });
        }

        var (items, total) = await orders.ListAsync(status, page ?? 1, pageSize ?? 20, cancellationToken);
        return TypedResults.Ok(new OrderPage(items.Select(OrderResponse.From).ToList(), page ?? 1, pageSize ?? 20, total));
    }

    public static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> MarkPaid(Guid id, ShopOrders orders, CancellationToken cancellationToken)
    {
        var outcome = await orders.MarkPaidAsync(id, cancellationToken);
        return outcome.Order switch
        {
            null => NotFound(id),
            { Status: OrderStatus.Paid } o => TypedResults.Ok(OrderResponse.From(o)),
            var o => Conflict("order-cancelled", "Order cancelled", $"Order {o.Number} is cancelled and cannot be paid."),
        };
    }

    public static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> CancelOrder(Guid id, ShopOrders orders, CancellationToken cancellationToken)
    {
        var outcome = await orders.CancelAsync(id, cancellationToken);
        return outcome.Order is null ? NotFound(id) : TypedResults.Ok(OrderResponse.From(outcome.Order));
    }

    private static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Order not found", detail: $"No order {id}.");

    private static ProblemHttpResult Conflict(string reason, string title, string detail)
    {
        var problem = new ProblemDetails { Status = StatusCodes.Status409Conflict, Title = title, Detail = detail };
        problem.Extensions["reason"] = reason;
        return TypedResults.Problem(problem);
    }

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    internal static partial Regex EmailPattern();
}

public sealed record PlaceOrderRequest(string? Name, string? Email)
{
    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(Name) || Name.Trim().Length > OrderConfiguration.NameLength)
        {
            errors["name"] = [$"Required: your name, up to {OrderConfiguration.NameLength} characters."];
        }

        if (string.IsNullOrWhiteSpace(Email) || Email.Trim().Length > OrderConfiguration.EmailLength || !OrdersApi.EmailPattern().IsMatch(Email.Trim()))
        {
            errors["email"] = ["Required: an email address such as name@example.com."];
        }

        return errors;
    }
}

public sealed record OrderResponse(
    Guid Id, string Number, OrderStatus Status, string CustomerName, string CustomerEmail, string Currency, decimal Total,
    IReadOnlyList<OrderLineResponse> Lines, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static OrderResponse From(Order o) => new(
        o.Id, o.Number, o.Status, o.CustomerName, o.CustomerEmail, o.Currency, Money(o.Total),
        o.Lines.OrderBy(l => l.Id).Select(l => new OrderLineResponse(l.ProductId, l.Sku, l.Name, Money(l.UnitPrice), l.Quantity,
            Money(l.UnitPrice * l.Quantity))).ToList(),
        o.CreatedAt, o.UpdatedAt);

    // As ProductResponse: the column keeps four places; 49.0000 reads better as 49.00.
    private static decimal Money(decimal amount) => decimal.Round(amount, 2) == amount ? decimal.Round(amount, 2) : amount;
}

public sealed record OrderLineResponse(Guid ProductId, string Sku, string Name, decimal UnitPrice, int Quantity, decimal LineTotal);

public sealed record OrderPage(IReadOnlyList<OrderResponse> Items, int Page, int PageSize, int Total);
