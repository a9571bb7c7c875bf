using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Reference.InventoryApi.Model;
using Reference.InventoryApi.Reservations;

namespace Reference.InventoryApi.Apis;

public static class ReservationsApi
{
    public const int MaxLines = 50;
    public const int MaxQuantity = 1000;

    public static IEndpointRouteBuilder MapReservationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/inventory/reservations").WithTags("Reservations");
        // Staff only: shoppers hold stock through their cart (CartApi), capped per cart and address,
        // and commit it only by placing an order, so nobody can empty the shelves anonymously.
        api.MapPost("/", CreateReservation).RequireAdminKey();
        api.MapGet("/{id:guid}", GetReservation);
        api.MapPost("/{id:guid}/commit", CommitReservation).RequireAdminKey();
        api.MapPost("/{id:guid}/release", ReleaseReservation).RequireAdminKey();
        return app;
    }

    public static async Task<Results<Created<ReservationResponse>, ValidationProblem, ProblemHttpResult>> CreateReservation(
        CreateReservationRequest request, StockReservations reservations, CancellationToken cancellationToken)
    {
        var errors = request.Validate();
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var outcome = await reservations.ReserveAsync(
            request.Lines!.Select(l => (l!.ProductId!.Value, l.Quantity!.Value)), cancellationToken);
        if (outcome.Reservation is null)
        {
            return NotEnoughStock(outcome.ShortLines);
        }

        var response = ReservationResponse.From(outcome.Reservation);
        return TypedResults.Created($"/api/inventory/reservations/{response.Id}", response);
    }

    public static async Task<Results<Ok<ReservationResponse>, ProblemHttpResult>> GetReservation(
        Guid id, StockReservations reservations, CancellationToken cancellationToken)
    {
        var reservation = await reservations.FindAsync(id, cancellationToken);
        return reservation is null ? NotFound(id) : TypedResults.Ok(ReservationResponse.From(reservation));
    }

    public static async Task<Results<Ok<ReservationResponse>, ProblemHttpResult>> CommitReservation(
        Guid id, StockReservations reservations, CancellationToken cancellationToken)
    {
        var outcome = await reservations.CommitAsync(id, cancellationToken);
        return outcome.Reservation switch
        {
            null => NotFound(id),
            { Status: ReservationStatus.Committed } r => TypedResults.Ok(ReservationResponse.From(r)),
            { Status: ReservationStatus.Pending } => Conflict("Reservation expired",
                $"Reservation {id} expired before it was committed; its stock is being returned."),
            var r => Conflict("Reservation already finished", $"Reservation {id} is {r.Status} and can no longer be committed."),
        };
    }

    public static async Task<Results<Ok<ReservationResponse>, ProblemHttpResult>> ReleaseReservation(
        Guid id, StockReservations reservations, CancellationToken cancellationToken)
    {
        var outcome = await reservations.ReleaseAsync(id, cancellationToken);
        return outcome.Reservation switch
        {
            null => NotFound(id),
            { Status: ReservationStatus.Committed } => Conflict("Reservation committed", $"Reservation {id} is committed and can no longer be released."),
            // Released, or Expired: either way its stock is back, which is what the caller wants.
            var r => TypedResults.Ok(ReservationResponse.From(r)),
        };
    }

    /// <summary>409 naming each short line, and whether its product still exists, so a page can say which line to change.</summary>
    internal static ProblemHttpResult NotEnoughStock(IReadOnlyList<ShortLine> shortLines)
    {
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status409Conflict,
            Title = "Not enough stock",
            Detail = string.Join(" ", shortLines.Select(l => l.Exists
                ? $"Product {l.ProductId}: requested {l.Requested}, available {l.Available}."
                : $"Product {l.ProductId}: not in the catalogue.")),
        };
        problem.Extensions["shortLines"] = shortLines
            .Select(l => new { productId = l.ProductId, requested = l.Requested, available = l.Available, exists = l.Exists })
            .ToList();
        return TypedResults.Problem(problem);
    }

    private static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Reservation not found", detail: $"No reservation {id}.");

    private static ProblemHttpResult Conflict(string title, string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: title, detail: detail);
}

public sealed record CreateReservationRequest(IReadOnlyList<ReservationLineRequest?>? Lines)
{
    public Dictionary<string, string[]> Validate()
    {
        var errors = ReservationLineRequest.Validate(Lines, ReservationsApi.MaxLines);
        if (errors.Count == 0 && Lines!.GroupBy(l => l!.ProductId).Any(g => g.Sum(l => l!.Quantity!.Value) > ReservationsApi.MaxQuantity))
        {
            errors["lines"] = [$"At most {ReservationsApi.MaxQuantity} units of one product."];
        }

        return errors;
    }
}

public sealed record ReservationLineRequest(Guid? ProductId, int? Quantity)
{
    /// <summary>What every request made of lines must be: 1 to <paramref name="maxLines"/> lines, each a product and a quantity.</summary>
    public static Dictionary<string, string[]> Validate(IReadOnlyList<ReservationLineRequest?>? lines, int maxLines)
    {
        var errors = new Dictionary<string, string[]>();
        if (lines is null || lines.Count is 0 || lines.Count > maxLines)
        {
            errors["lines"] = [$"Required: 1 to {maxLines} lines."];
            return errors;
        }

        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line?.ProductId is null || line.ProductId == Guid.Empty)
            {
                errors[$"lines[{i}].productId"] = ["Required."];
            }

            if (line?.Quantity is null or < 1 or > ReservationsApi.MaxQuantity)
            {
                errors[$"lines[{i}].quantity"] = [$"Must be a whole number from 1 to {ReservationsApi.MaxQuantity}."];
            }
        }

        return errors;
    }
}

public sealed record ReservationResponse(
    Guid Id, ReservationStatus Status, IReadOnlyList<ReservationLineResponse> Lines,
    DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset UpdatedAt)
{
    public static ReservationResponse From(Reservation r) => new(
        r.Id, r.Status, r.Lines.OrderBy(l => l.ProductId).Select(l => new ReservationLineResponse(l.ProductId, l.Quantity)).ToList(),
        r.CreatedAt, r.ExpiresAt, r.UpdatedAt);
}

public sealed record ReservationLineResponse(Guid ProductId, int Quantity);
