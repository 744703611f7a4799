"""What subscribers read, in each locale: the mails, the pages the subscribe form and the links lead
to, and the words of incident and maintenance notices."""

from __future__ import annotations

from typing import Final

WORDS: Final[dict[str, dict[str, str]]] = {
    "pt-BR": {
        # the mails
        "confirm.subject": "[{page}] Confirme sua inscrição nas atualizações de status",
        "confirm.body": (
            "Recebemos um pedido para enviar as atualizações de status de {page} para este "
            "endereço.\n\nPara confirmar, abra o link abaixo (válido até {expires}):\n{link}\n\n"
            "Se não foi você, ignore esta mensagem: sem confirmação, nada será enviado e o "
            "endereço será apagado."
        ),
        "already.subject": "[{page}] Você já recebe as atualizações de status",
        "already.body": (
            "Recebemos um novo pedido de inscrição para este endereço, que já recebe as "
            "atualizações de status de {page}. Nada mudou.\n\nPara deixar de receber, use o "
            "link abaixo."
        ),
        "footer": "Você recebe esta mensagem porque se inscreveu nas atualizações de {page}.\n"
        "Cancelar a inscrição: {link}",
        "details": "Detalhes: {link}",
        "components": "Componentes afetados: {names}",
        "when": "Quando: {span}",
        "calendar": "Calendário: {link}",
        # incident and maintenance notices
        "investigating": "Investigando",
        "identified": "Identificado",
        "monitoring": "Monitorando",
        "resolved": "Resolvido",
        "maintenance.scheduled": "Manutenção programada",
        "maintenance.started": "Manutenção iniciada",
        "maintenance.ended": "Manutenção encerrada",
        "maintenance.cancelled": "Manutenção cancelada",
        "all": "todos",
        # the pages
        "page.pending.title": "Confira seu e-mail",
        "page.pending": (
            "Se o endereço puder receber e-mail, enviamos a ele um link para confirmar a "
            "inscrição. Nada será enviado antes da confirmação."
        ),
        "page.limited.title": "Muitos pedidos",
        "page.limited": "Muitos pedidos em pouco tempo. Tente de novo em {seconds} s.",
        "page.bad.title": "Não foi possível",
        "page.confirm.title": "Confirmar inscrição",
        "page.confirm": "Confirme que deseja receber as atualizações de status por e-mail.",
        "page.confirm.button": "Confirmar",
        "page.confirmed.title": "Inscrição confirmada",
        "page.confirmed": "Pronto: você receberá as atualizações de status por e-mail.",
        "page.invalid.title": "Link inválido ou expirado",
        "page.invalid": "Este link não é válido ou já expirou. Inscreva-se de novo na página de status.",
        "page.unsubscribe.title": "Cancelar inscrição",
        "page.unsubscribe": "Deseja deixar de receber as atualizações de status por e-mail?",
        "page.unsubscribe.button": "Cancelar inscrição",
        "page.unsubscribed.title": "Inscrição cancelada",
        "page.unsubscribed": "Pronto: este endereço foi apagado e não receberá mais mensagens.",
        "page.back": "Voltar à página de status",
    },
    "en": {
        "confirm.subject": "[{page}] Confirm your subscription to status updates",
        "confirm.body": (
            "We were asked to send {page}'s status updates to this address.\n\nTo confirm, open "
            "the link below (valid until {expires}):\n{link}\n\nIf this was not you, ignore this "
            "message: without a confirmation nothing is sent and the address is deleted."
        ),
        "already.subject": "[{page}] You already get status updates",
        "already.body": (
            "We got a new subscription request for this address, which already gets {page}'s "
            "status updates. Nothing changed.\n\nTo stop getting them, use the link below."
        ),
        "footer": "You get this message because you subscribed to {page}'s updates.\nUnsubscribe: {link}",
        "details": "Details: {link}",
        "components": "Affected components: {names}",
        "when": "When: {span}",
        "calendar": "Calendar: {link}",
        "investigating": "Investigating",
        "identified": "Identified",
        "monitoring": "Monitoring",
        "resolved": "Resolved",
        "maintenance.scheduled": "Maintenance scheduled",
        "maintenance.started": "Maintenance started",
        "maintenance.ended": "Maintenance completed",
        "maintenance.cancelled": "Maintenance cancelled",
        "all": "all",
        "page.pending.title": "Check your inbox",
        "page.pending": (
            "If the address can receive mail, we sent it a link to confirm the subscription. "
            "Nothing is sent before it is confirmed."
        ),
        "page.limited.title": "Too many requests",
        "page.limited": "Too many requests in a short time. Try again in {seconds} s.",
        "page.bad.title": "That did not work",
        "page.confirm.title": "Confirm subscription",
        "page.confirm": "Confirm that you want to get status updates by e-mail.",
        "page.confirm.button": "Confirm",
        "page.confirmed.title": "Subscription confirmed",
        "page.confirmed": "Done: you will get status updates by e-mail.",
        "page.invalid.title": "Invalid or expired link",
        "page.invalid": "This link is not valid or has expired. Subscribe again on the status page.",
        "page.unsubscribe.title": "Unsubscribe",
        "page.unsubscribe": "Stop getting status updates by e-mail?",
        "page.unsubscribe.button": "Unsubscribe",
        "page.unsubscribed.title": "Unsubscribed",
        "page.unsubscribed": "Done: this address was deleted and gets no more messages.",
        "page.back": "Back to the status page",
    },
}
"""Every key exists in every locale (a test checks it)."""


def words(locale: str) -> dict[str, str]:
    """The words of `locale` (pt-BR for any other)."""
    return WORDS.get(locale, WORDS["pt-BR"])
